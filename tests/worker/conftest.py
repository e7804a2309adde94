"""Fixtures for tests with real Celery workers on Redis and the session's PostgreSQL database.

Redis: ``PANDA_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379``), on database
``PANDA_TEST_REDIS_FIRST_DB`` (default 5) plus the pytest-xdist worker's number, flushed before and
after each test; the server itself is never stopped. Tests that restart Redis start their own
server on another port.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.config import Settings
from domain.db import make_engine
from tests.emptying import empty_tables
from tests.worker.processes import BEAT_READY, WORKER_READY, Process, start_beat, start_worker

REDIS_SERVER = os.environ.get("PANDA_TEST_REDIS_URL", "redis://127.0.0.1:6379")
FIRST_TEST_DB = int(os.environ.get("PANDA_TEST_REDIS_FIRST_DB", "5"))


def _redis_db() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return FIRST_TEST_DB + int(worker.removeprefix("gw") or 0) % (16 - FIRST_TEST_DB)


def flushed_redis_db(db: int) -> Iterator[str]:
    """The URL of one database of the machine's Redis, emptied before and after use."""
    url = f"{REDIS_SERVER}/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def broker_url() -> Iterator[str]:
    """An empty Redis database of the machine's server, for this test only."""
    yield from flushed_redis_db(_redis_db())


@pytest.fixture
def pg_settings(postgres_url: str, broker_url: str) -> Settings:
    """Settings of the workers under test: PostgreSQL, Redis, a one-second scheduler."""
    return worker_settings(postgres_url, broker_url)


def worker_settings(postgres_url: str, broker_url: str) -> Settings:
    """PostgreSQL, Redis, a one-second scheduler and reminders one minute before the start."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=postgres_url,
        broker_url=broker_url,
        scheduler_interval=1.0,
        reminder_offsets="1m",  # type: ignore[arg-type]
    )


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that gives a worker or beat subprocess ``settings``."""
    return {
        "DATABASE_URL": settings.database_url,
        "BROKER_URL": settings.broker_url,
        "SCHEDULER_INTERVAL": str(settings.scheduler_interval),
        "REMINDER_OFFSETS": "1m",
        "REMINDER_CHANNEL": settings.reminder_channel,
        "LOG_LEVEL": "INFO",
        **extra,
    }


@pytest.fixture
async def pg_sessions(pg_settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the emptied PostgreSQL test database."""
    engine = make_engine(pg_settings)
    async with engine.begin() as connection:
        await empty_tables(connection)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[Process]]:
    """Subprocesses a test starts; all are stopped at its end, whatever happens."""
    started: list[Process] = []
    yield started
    for process in started:
        process.terminate()
    for process in started:
        process.stop()


@pytest.fixture(scope="module")
def system_settings(postgres_url: str) -> Iterator[Settings]:
    """Settings of a worker and scheduler shared by a module's tests (on their own Redis database)."""
    for broker_url in flushed_redis_db(_redis_db()):
        yield worker_settings(postgres_url, broker_url)


@pytest.fixture(scope="module")
def system(system_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Process]]:
    """One worker (concurrency 2) and one scheduler on PostgreSQL and Redis, started once per module:
    each test empties the tables (``pg_sessions``) and the running processes serve it."""
    env = worker_env(system_settings)
    workdir = tmp_path_factory.mktemp("system")
    processes = [start_worker(env, workdir, wait=False), start_beat(env, workdir, wait=False)]
    try:
        processes[0].wait_for(WORKER_READY)
        processes[1].wait_for(BEAT_READY)
        yield processes
    finally:
        for process in processes:
            process.stop()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Poll ``check`` until it holds; fail the test naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
