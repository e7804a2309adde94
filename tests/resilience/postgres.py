"""A private PostgreSQL cluster on a free loopback port, owned by one test: it may be stopped at will.

The machine's shared server (5432) is used by other test runs at the same time and is never
stopped; the fault tests stop, restart and load this one instead. As root, ``initdb`` and
``pg_ctl`` refuse to run, so they run as the ``postgres`` OS user on a directory it owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from domain.config import Settings
from domain.migrate import migrate
from tests.reminders.servers import free_port

START_SECONDS = 30


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path is None:
        raise RuntimeError("PostgreSQL's server binaries (initdb, pg_ctl) are required for the fault tests")
    return Path(on_path).parent


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` in a temporary directory; ``url`` names its migrated ``panda`` database."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="panda-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/panda"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)

    def create(self) -> PrivatePostgres:
        """Make the cluster, start it and migrate a ``panda`` database on it."""
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "panda")
        migrate(Settings(_env_file=None, database_url=self.url))  # type: ignore[call-arg]
        return self

    def start(self) -> None:
        """Start (or restart after :meth:`stop`) and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log_path),
                  "-w", "-t", str(START_SECONDS), "start")  # fmt: skip

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the database server goes down."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop it if it runs and delete its files."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
