"""Shared benchmark plumbing: a scratch PostgreSQL database, servers in subprocesses, wrk runs."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "lua"
ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_DSN)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def database_dsn(name: str) -> str:
    """The plain DSN of database ``name`` on the benchmark server."""
    return ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


def create_database(name: str, python: str = sys.executable, cwd: Path = ROOT) -> str:
    """Database ``name`` made anew (dropped first if it exists) and migrated by the build at ``cwd``
    (run with ``python``, by default this build); its plain DSN."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    dsn = database_dsn(name)
    env = {**os.environ, "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1)}
    subprocess.run([python, "-m", "panda.cli", "migrate"], cwd=cwd, env=env, check=True, capture_output=True)
    return dsn


def drop_database(name: str) -> None:
    """Drop database ``name`` if it exists, whoever is connected."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def scratch_database(name: str, python: str = sys.executable, cwd: Path = ROOT) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated (by the build at ``cwd``), dropped afterwards; yields its plain DSN."""
    dsn = create_database(name, python, cwd)
    try:
        yield dsn
    finally:
        drop_database(name)


@contextmanager
def server(argv: list[str], env: dict[str, str], port: int, log: Path, cwd: Path = ROOT) -> Iterator[str]:
    """Run a server process (in ``cwd``) until its ``/health`` (or any path) answers; stop it afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(base + "/health", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(f"server did not start; see {log}") from None
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


@dataclass
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")  # pragma: no cover
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, script: str, connections: int, duration: int, env: dict[str, str]) -> WrkResult:
    """Run wrk with a Lua script from ``bench/lua`` and parse its report."""
    threads = min(2, connections)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LUA / script), url]
    out = subprocess.run(
        argv, env={**os.environ, "BENCH_LUA": str(LUA), **env}, capture_output=True, text=True, check=True
    ).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed: {out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(rps, p50, p99, errors)


def valid_nhs_numbers(start: int, count: int) -> list[str]:
    """``count`` valid NHS numbers from the 9-digit sequence ``start`` on."""
    numbers: list[str] = []
    seq = start
    while len(numbers) < count:
        base = f"{seq:09d}"
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(base)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            numbers.append(base + str(check))
        seq += 1
    return numbers


@contextmanager
def panda_and_ceiling(database: str, logs: Path) -> Iterator[tuple[str, str]]:
    """A scratch database with PANDA's API (one process) and the bare ceiling app both serving it."""
    with scratch_database(database) as dsn:
        panda_port, ceiling_port = free_port(), free_port()
        panda_env = {
            "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            "PORT": str(panda_port),
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": "1",
        }
        ceiling_argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.ceiling:app",
            "--port",
            str(ceiling_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with (
            server([sys.executable, "-m", "panda.cli", "api"], panda_env, panda_port, logs / "panda.log") as panda,
            server(ceiling_argv, {"CEILING_DSN": dsn}, ceiling_port, logs / "ceiling.log") as ceiling,
        ):
            yield panda, ceiling


def create_api_key(dsn: str, name: str, role: str) -> str:
    """``panda keys create`` on the benchmark's database; the key is the last line it prints."""
    env = {**os.environ, "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1)}
    argv = [sys.executable, "-m", "panda.cli", "keys", "create", "--name", name, "--role", role]
    done = subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def panda_twice_and_ceiling(database: str, logs: Path) -> Iterator[tuple[str, str, str, str]]:
    """PANDA with auth off and with ``AUTH_MODE=on``, and the bare ceiling, on one scratch database.

    Yields the three base URLs (off, on, ceiling) and the ``Authorization`` value of an API key
    holding the ``booking`` role, for the auth-on server.
    """
    with scratch_database(database) as dsn:
        key = create_api_key(dsn, "bench", "booking")
        ports = free_port(), free_port(), free_port()
        base_env = {
            "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": "1",
        }
        panda = [sys.executable, "-m", "panda.cli", "api"]
        ceiling_argv = [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--port", str(ports[2])]
        ceiling_argv += ["--log-level", "warning", "--no-access-log"]
        with (
            server(panda, {**base_env, "PORT": str(ports[0])}, ports[0], logs / "panda.log") as off,
            server(panda, {**base_env, "PORT": str(ports[1]), "AUTH_MODE": "on"}, ports[1], logs / "auth.log") as on,
            server(ceiling_argv, {"CEILING_DSN": dsn}, ports[2], logs / "ceiling.log") as ceiling,
        ):
            yield off, on, ceiling, f"Bearer {key}"
