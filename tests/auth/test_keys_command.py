"""``panda keys create|list|revoke``, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from domain.auth.keys import key_hash
from domain.config import get_settings
from panda.keys_command import keys

pytestmark = pytest.mark.slow  # the command runs in fresh processes


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


@pytest.fixture
def keys_in_process(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """``panda keys`` run in this process (a fresh interpreter per call costs seconds: the first
    test runs the real command line)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_unknown_roles_and_duplicate_live_names_are_refused(keys_in_process: CliRunner) -> None:
    def run(*args: str) -> Result:
        return keys_in_process.invoke(keys, list(args))

    assert run("create", "--name", "x", "--role", "superuser").exit_code != 0
    assert run("create", "--name", "x").exit_code != 0
    created = run("create", "--name", "ops", "--role", "ops")
    assert created.exit_code == 0, created.output
    duplicate = run("create", "--name", "ops", "--role", "ops")
    assert duplicate.exit_code != 0 and "already has this name" in duplicate.output
    names = [line.split("\t")[0] for line in run("list").output.splitlines()[1:]]
    assert names == ["ops"]  # nothing refused was stored
