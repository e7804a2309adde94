"""``panda flower`` on the embedded broker says plainly that Flower will show no workers there.

kombu's SQLAlchemy transport (the SQLite default) has no broadcast and no event fanout, so Flower
lists 0 workers while workers run: the operator is told at start, not left to guess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reminders.servers import free_port


def _start_message(broker_url: str, cwd: Path) -> str:
    """``panda flower``'s standard error when it stops at once (no FLOWER_BASIC_AUTH here)."""
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("panda")), "flower", "--port", str(free_port())],
        env={**env, "BROKER_URL": broker_url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    return result.stderr


def test_flower_on_the_embedded_broker_warns_of_zero_workers(tmp_path: Path) -> None:
    message = _start_message(f"sqla+sqlite:///{tmp_path}/broker.sqlite", tmp_path)
    assert "0 workers" in message
    assert "redis://" in message.lower()


@pytest.mark.parametrize("broker_url", ["redis://127.0.0.1:6379/0", "amqp://guest@127.0.0.1//"])
def test_flower_on_a_broadcasting_broker_starts_without_the_warning(broker_url: str, tmp_path: Path) -> None:
    assert "0 workers" not in _start_message(broker_url, tmp_path)
