"""The models declare what the migrations build: checked where Alembic's autogenerate cannot look.

Alembic does not compare exclusion constraints, so the no-overlap rule could live in a
migration's raw SQL and nowhere in the models. Here a database built from the models alone
(``create_all``) must hold the same exclusion constraints, definition for definition, as the
session's migrated database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from domain.models import Appointment
from tests.conftest import POSTGRES_ADMIN_URL, _admin, _plain_dsn

CONSTRAINTS = """
SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
WHERE contype = 'x' ORDER BY conname
"""


@pytest.fixture
async def models_only_url() -> AsyncIterator[str]:
    """A PostgreSQL database whose schema comes from ``metadata.create_all`` alone."""
    name = f"panda_models_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        await connection.run_sync(Appointment.metadata.create_all)
    await engine.dispose()
    yield url
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _exclusions(url: str) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(_plain_dsn(url))
    try:
        return [(row["conname"], row["definition"]) for row in await connection.fetch(CONSTRAINTS)]
    finally:
        await connection.close()


async def test_the_models_declare_the_migrated_exclusion_constraints(postgres_url: str, models_only_url: str) -> None:
    migrated = await _exclusions(postgres_url)
    assert [name for name, _definition in migrated] == [
        "ex_appointment_clinician_id_overlap",
        "ex_appointment_patient_id_overlap",
        "ex_slot_hold_clinician_id_overlap",
    ]
    assert await _exclusions(models_only_url) == migrated
