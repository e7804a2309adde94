"""Fixtures for load and fault tests: a private PostgreSQL and Redis, and the deployment on them.

Both servers belong to the test, so it may stop and restart them; the machine's shared servers,
which other test runs use at the same time, are never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.postgres import PrivatePostgres
from tests.resilience.stack import PrivateRedis, Stack


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this test's own, migrated, on a free port."""
    server = PrivatePostgres()
    try:
        yield server.create()
    finally:
        server.destroy()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis server of this test's own, on a free port."""
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stack(tmp_path: Path, private_postgres: PrivatePostgres, private_redis: PrivateRedis) -> Iterator[Stack]:
    """A deployment on the private servers; the test starts the processes it needs, all stopped at its end."""
    deployment = Stack(tmp_path, private_postgres.url, private_redis.url())
    try:
        yield deployment
    finally:
        deployment.stop()
