"""Shared fixtures: a migrated database on each backend, and the API over it.

PostgreSQL is required (no skipping): ``PANDA_TEST_POSTGRES_URL`` names a server and a
maintenance database (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``); each
test session creates its own database there and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from api.app import create_app
from domain.config import Settings
from domain.db import make_engine
from domain.migrate import migrate
from tests.emptying import empty_tables

POSTGRES_ADMIN_URL = os.environ.get("PANDA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_plain_dsn(POSTGRES_ADMIN_URL))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"panda_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate(Settings(database_url=url))
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file, as the embedded default uses."""
    path: Path = tmp_path_factory.mktemp("db") / "panda.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(Settings(database_url=url))
    return url


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on each database."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for the backend under test (embedded broker, so no broker is needed here).

    Uploads go to the test's own directory: an app starting in another test (another database)
    sweeps the files of a shared folder whose jobs it does not know, this test's upload included.
    """
    url = request.getfixturevalue("postgres_url" if backend == "postgresql" else "sqlite_url")
    return Settings(
        database_url=url, broker_url=f"sqla+sqlite:///{tmp_path}/broker.sqlite", upload_dir=tmp_path / "uploads"
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on the backend's database, emptied before the test."""
    engine = make_engine(settings)
    async with engine.begin() as connection:
        await empty_tables(connection)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    """A session factory for service-level tests."""
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> Litestar:
    """The API on the backend under test (its database emptied first by ``engine``)."""
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client talking to the app in-process."""
    async with AsyncTestClient(app=app) as client:
        yield client
