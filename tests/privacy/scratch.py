"""A scratch database of the backend under test, for tests that change its schema."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from domain.config import Settings


def plain_dsn(url: str, **parts: str) -> str:
    """``url`` for asyncpg itself (no SQLAlchemy driver name), with ``parts`` replaced."""
    return make_url(url).set(drivername="postgresql", **parts).render_as_string(hide_password=False)


async def scratch_database(settings: Settings, tmp_path: Path) -> Settings:
    """An empty database of the backend under test, for a migration to run on."""
    if settings.is_sqlite:
        return settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path}/scratch.sqlite"})
    name = f"panda_scratch_{uuid.uuid4().hex[:12]}"
    url = make_url(settings.database_url)
    admin = await asyncpg.connect(plain_dsn(settings.database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return settings.model_copy(update={"database_url": url.set(database=name).render_as_string(hide_password=False)})


async def drop_scratch_database(settings: Settings) -> None:
    if settings.is_sqlite:
        return
    url = make_url(settings.database_url)
    admin = await asyncpg.connect(
        url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await admin.close()
