"""Shared fixtures for the database-free unit tests of PANDA's rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Rules are pure and fast; no deadline so a cold first example on a busy CI box never flakes.
settings.register_profile("unit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("unit")

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_EXAMPLES = REPO_ROOT / "panda" / "examples"
SHARED_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data"


def example_file(name: str) -> Path:
    """The client's example file: shipped in ``panda/examples/`` if there, else the shared copy."""
    for folder in (SHIPPED_EXAMPLES, SHARED_EXAMPLES):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} not found in {SHIPPED_EXAMPLES} or {SHARED_EXAMPLES}")


def load_examples(name: str) -> list[dict[str, Any]]:
    """The decoded list of objects of one example file."""
    rows: list[dict[str, Any]] = json.loads(example_file(name).read_text(encoding="utf-8"))
    return rows


@pytest.fixture(scope="session")
def example_patients() -> list[dict[str, Any]]:
    """The client's 100 example patients, exactly as shipped."""
    return load_examples("example_patients.json")


@pytest.fixture(scope="session")
def example_appointments() -> list[dict[str, Any]]:
    """The client's 100 example appointments, exactly as shipped."""
    return load_examples("example_appointments.json")
