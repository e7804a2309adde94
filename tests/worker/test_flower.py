"""``panda flower``: the dashboard is served behind basic auth, and never without it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.reminders.servers import free_port
from tests.worker.processes import Process, start


def test_flower_refuses_to_start_without_basic_auth(broker_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}
    panda = Path(sys.executable).with_name("panda")
    result = subprocess.run(
        [str(panda), "flower", "--port", str(free_port())],
        env={**env, "BROKER_URL": broker_url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr


def test_flower_asks_for_the_password(broker_url: str, processes: list[Process], tmp_path: Path) -> None:
    port = free_port()
    panda = Path(sys.executable).with_name("panda")
    env = {"BROKER_URL": broker_url, "FLOWER_BASIC_AUTH": "ops:correct-horse"}
    processes.append(start("flower", [str(panda), "flower", "--port", str(port)], env, tmp_path))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            anonymous = httpx.get(f"{base}/", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, processes[-1].log()
            time.sleep(0.2)

    assert anonymous.status_code == 401
    assert httpx.get(f"{base}/", auth=("ops", "wrong"), timeout=5).status_code == 401
    assert httpx.get(f"{base}/workers", auth=("ops", "correct-horse"), timeout=5).status_code == 200
