"""Real Celery workers, beats and Redis servers as subprocesses, each in its own process group.

Each process runs in a scratch directory (its ``var/`` and beat schedule stay there) and logs
to a file the test can wait on, and can be stopped politely or killed with ``SIGKILL``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# A bound on a start, not a speed test: on a loaded two-core machine a start can take a minute.
STARTUP_SECONDS = 120.0
WORKER_READY = " ready."
BEAT_READY = "beat: Starting..."


@dataclass
class Process:
    """A started subprocess with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """Everything it has written so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = STARTUP_SECONDS) -> None:
        """Block until ``text`` appears in the log; fail if the process dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not log {text!r} in {timeout}s:\n{self.log()[-3000:]}")

    def children(self) -> list[int]:
        """The pids of its direct children (a prefork worker's pool processes)."""
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def kill_hard(self) -> None:
        """``kill -9`` the whole process group: no shutdown code runs, nothing is acknowledged."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self) -> None:
        """Ask the whole process group for a warm shutdown (SIGTERM), without waiting."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (warm shutdown), then SIGKILL if it lingers."""
        self.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_hard()


def start(name: str, argv: list[str], env: Mapping[str, str], workdir: Path) -> Process:
    """Start ``argv`` in ``workdir`` with ``env`` added to this environment."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            argv,
            cwd=workdir,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, popen, log_path)


def start_worker(
    env: Mapping[str, str], workdir: Path, name: str = "w1", concurrency: int = 2, wait: bool = True
) -> Process:
    """A prefork Celery worker on the PANDA app; returns once it consumes (unless ``wait`` is false)."""
    argv = [
        sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker",
        "--pool=prefork", f"--concurrency={concurrency}", f"--hostname={name}@%h", "--loglevel=INFO",
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    process = start(name, argv, env, workdir / name)
    if wait:
        process.wait_for(WORKER_READY)
    return process


def start_beat(env: Mapping[str, str], workdir: Path, name: str = "beat", wait: bool = True) -> Process:
    """Celery beat (the scheduler) with its own schedule file."""
    argv = [
        sys.executable, "-m", "celery", "-A", "worker.celery_app", "beat", "--loglevel=INFO",
        f"--schedule={workdir / name / 'schedule'}",
    ]  # fmt: skip
    process = start(name, argv, env, workdir / name)
    if wait:
        process.wait_for(BEAT_READY)
    return process


def start_redis(port: int, workdir: Path) -> Process:
    """A private redis-server on loopback, without persistence: a restart loses everything."""
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = start(f"redis-{port}", argv, {}, workdir / "redis")
    process.wait_for("Ready to accept connections")
    return process
