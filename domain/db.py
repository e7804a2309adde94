"""The database half of the composition root: one engine config shared by API, worker and CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from advanced_alchemy.config import AlembicAsyncConfig, AsyncSessionConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import migrations
from domain.config import Settings
from domain.dialects import register_sqlite_functions

MIGRATIONS_DIR = Path(migrations.__file__).parent


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so that every write transaction is serialised.

    Serialised writes are how the embedded default keeps the no-overlap rule under concurrency
    without PostgreSQL's exclusion constraints.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # The analytics rollup's triggers compute London days with it (domain.dialects).
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(settings: Settings) -> AsyncEngine:
    """One engine per process: the API's event loop, or a worker process's after the fork.

    ``hide_parameters``: a failing statement's error quotes its SQL, never its values (patient
    data), wherever the error travels (logs, a task's failure report).
    """
    url = make_url(settings.database_url)
    if settings.is_sqlite:
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": 30},
            pool_timeout=settings.db_acquire_timeout_seconds,
            hide_parameters=True,
        )
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # A connection is awaited this long at most: past it the request is a 503, never a hang.
        pool_timeout=settings.db_acquire_timeout_seconds,
        pool_pre_ping=True,
        hide_parameters=True,
    )


ConfigT = TypeVar("ConfigT", bound=SQLAlchemyAsyncConfig)


def make_db_config(
    settings: Settings,
    engine: AsyncEngine | None = None,
    config_class: type[ConfigT] = SQLAlchemyAsyncConfig,  # type: ignore[assignment]
    **options: Any,
) -> ConfigT:
    """The advanced-alchemy config (engine, sessions, Alembic) for ``settings.database_url``.

    ``config_class`` lets the API use the Litestar flavour of the same config.
    """
    return config_class(
        engine_instance=engine or make_engine(settings),
        session_config=AsyncSessionConfig(expire_on_commit=False),
        alembic_config=AlembicAsyncConfig(
            script_location=str(MIGRATIONS_DIR),
            script_config=str(MIGRATIONS_DIR / "alembic.ini"),
            version_table_name="alembic_version",
        ),
        **options,
    )
