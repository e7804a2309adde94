"""Shared fixtures for the database-free unit tests of PANDA's rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from panda.examples import example_rows

# Rules are pure and fast; no deadline so a cold first example on a busy CI box never flakes.
settings.register_profile("unit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("unit")


def load_examples(name: str) -> list[dict[str, Any]]:
    """The decoded list of objects of one example file, as the project ships it."""
    rows = example_rows(name)
    assert len(rows) == 100, f"{name} should hold the client's 100 records"
    return rows


@pytest.fixture(scope="session")
def example_patients() -> list[dict[str, Any]]:
    """The client's 100 example patients, exactly as shipped."""
    return load_examples("example_patients.json")


@pytest.fixture(scope="session")
def example_appointments() -> list[dict[str, Any]]:
    """The client's 100 example appointments, exactly as shipped."""
    return load_examples("example_appointments.json")
