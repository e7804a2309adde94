"""Applying the Alembic migrations: the only way the schema is made outside tests."""

from __future__ import annotations

from advanced_alchemy.alembic.commands import AlembicCommands

from domain.config import Settings
from domain.db import make_db_config


def migrate(settings: Settings, revision: str = "head") -> None:
    """Bring the database at ``settings.database_url`` up to ``revision`` (blocking)."""
    AlembicCommands(make_db_config(settings)).upgrade(revision)
