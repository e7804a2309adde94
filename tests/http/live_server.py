"""A real PANDA API (``panda api``, several processes) on a free loopback port, for concurrency tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from domain.config import Settings

# Generous: on a loaded two-core machine several processes each import the whole app.
STARTUP_SECONDS = 120.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_api(settings: Settings, processes: int = 2, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``panda api`` on the test database with ``processes`` workers; yield its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROKER_URL": settings.broker_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(processes),
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    panda = Path(sys.executable).with_name("panda")
    with tempfile.TemporaryFile() as output:
        server = subprocess.Popen([str(panda), "api"], env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_serving(server, base_url, output)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_serving(server: subprocess.Popen[bytes], base_url: str, output: object) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output.seek(0)  # type: ignore[attr-defined]
            raise RuntimeError(f"panda api exited with {server.returncode}: {output.read()[-2000:]!r}")  # type: ignore[attr-defined]
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("panda api did not start serving in time")
