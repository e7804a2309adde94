"""``panda keys create|list|revoke``, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.auth.keys import key_hash

pytestmark = pytest.mark.slow  # each test runs the command in fresh processes


def panda(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panda.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    settings = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/panda.sqlite", "LOG_FORMAT": "json"}
    panda(settings, "migrate")
    return settings


def test_create_prints_the_key_once_on_its_last_line_and_stores_only_its_hash(env, tmp_path: Path) -> None:
    created = panda(env, "keys", "create", "--name", "booking-frontend", "--role", "booking", "--role", "clinician")
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("panda_") and len(key) >= 40 and " " not in key
    stored = (tmp_path / "panda.sqlite").read_bytes()
    assert key.encode() not in stored and key_hash(key).encode() in stored

    listed = panda(env, "keys", "list").stdout
    assert "booking-frontend" in listed and "booking,clinician" in listed
    assert key not in listed and key_hash(key) not in listed

    assert "revoked" in panda(env, "keys", "revoke", "booking-frontend").stdout
    again = panda(env, "keys", "revoke", "booking-frontend", check=False)
    assert again.returncode != 0 and "No live key" in again.stderr
    # the name is free again once its key is revoked (rotation keeps the name)
    rotated = panda(env, "keys", "create", "--name", "booking-frontend", "--role", "booking")
    assert rotated.stdout.strip().splitlines()[-1] != key


def test_unknown_roles_and_duplicate_live_names_are_refused(env) -> None:
    assert panda(env, "keys", "create", "--name", "x", "--role", "superuser", check=False).returncode != 0
    assert panda(env, "keys", "create", "--name", "x", check=False).returncode != 0
    panda(env, "keys", "create", "--name", "ops", "--role", "ops")
    duplicate = panda(env, "keys", "create", "--name", "ops", "--role", "ops", check=False)
    assert duplicate.returncode != 0 and "already has this name" in duplicate.stderr
