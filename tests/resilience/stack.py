"""A whole PANDA deployment as real processes: ``panda api`` (several uvicorn workers), Celery
workers, the scheduler, and a private Redis, each in its own process group with its own log file.

Every process logs JSON (``LOG_FORMAT=json``) to a file the test can read afterwards: the
privacy test searches these files, the fault tests read them when something fails.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.reminders.servers import free_port
from tests.worker.processes import Process, start, start_beat, start_redis, start_worker

# A bound on a process's start, not a speed test: two API workers each import the app (about 4 s
# of CPU on the slower machines) while the suite's other processes share the two cores; a CI run
# with another test run beside it once took over 60 s here.
STARTUP_SECONDS = 120.0


@dataclass
class PrivateRedis:
    """A redis-server on a free loopback port, without persistence; stop and start it at will."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    def url(self, db: int = 7) -> str:
        """The broker URL on database ``db`` of this server."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = start_redis(self.port, self.workdir)

    def stop(self) -> None:
        """Shut it down: every queued task it held is gone."""
        if self.process is not None:
            self.process.stop()
            self.process = None


@dataclass
class Stack:
    """The processes of one deployment on one database and one broker."""

    workdir: Path
    database_url: str
    broker_url: str
    settings: Mapping[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The environment every PANDA process of this deployment gets."""
        return {
            "DATABASE_URL": self.database_url,
            "BROKER_URL": self.broker_url,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "REMINDER_CHANNEL": "outbox",
            "SCHEDULER_INTERVAL": "1",
            **self.settings,
        }

    def start_api(self, name: str = "api", processes: int = 2) -> str:
        """``python -m panda.cli api`` with ``processes`` uvicorn workers; returns its base URL once it serves."""
        port = free_port()
        env = {**self.env(), "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(processes)}
        api = start(name, [sys.executable, "-m", "panda.cli", "api"], env, self.workdir / name)
        self.processes.append(api)
        base_url = f"http://127.0.0.1:{port}"
        wait_until_serving(api, base_url)
        return base_url

    def start_worker(self, name: str = "w1", concurrency: int = 1) -> Process:
        """A prefork Celery worker; returns once it consumes."""
        worker = start_worker(self.env(), self.workdir, name, concurrency=concurrency)
        self.processes.append(worker)
        return worker

    def start_scheduler(self, name: str = "beat") -> Process:
        """Celery beat, publishing the dispatch and sweep tasks every second."""
        beat = start_beat(self.env(), self.workdir, name)
        self.processes.append(beat)
        return beat

    def process(self, name: str) -> Process:
        """The latest started process called ``name``."""
        return [p for p in self.processes if p.name == name][-1]

    def logs(self) -> str:
        """Everything every process of the deployment has written so far."""
        return "\n".join(p.log() for p in self.processes)

    def errors(self) -> str:
        """The log lines that report errors (for a failing test's message)."""
        markers = re.compile(r'"level": ?"(error|critical)"|unavailable|Traceback|ERROR|CRITICAL|died')
        return "\n".join(line for line in self.logs().splitlines() if markers.search(line))[-6000:]

    def stop(self) -> None:
        """Stop every process (SIGTERM to each group, then SIGKILL what lingers)."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.stop()


def wait_until_serving(process: Process, base_url: str, timeout: float = STARTUP_SECONDS) -> None:
    """Poll ``/health`` until it answers 200; fail with the log if the process dies or never serves."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited with {process.popen.returncode}:\n{process.log()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{process.name} did not serve in {timeout}s:\n{process.log()[-3000:]}")
