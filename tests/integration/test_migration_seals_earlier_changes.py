"""Migration 0013 seals the patient changes recorded before it, on both databases: a living
patient's under a new key of theirs (still readable through the API's reading), an erased
patient's reduced to which fields changed — on PostgreSQL past the append-only trigger, which
is back on afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from domain.audit.events import AUDIT_EVENT, Action, ResourceType, event_row
from domain.audit.sealing import ERASED_VALUE, unseal
from domain.auth.actor import ANONYMOUS
from domain.config import Settings
from domain.db import make_engine
from domain.migrate import migrate
from domain.models import Patient, table
from tests.conftest import POSTGRES_ADMIN_URL, _admin

LIVING, ERASED = "9434765919", "4010232137"
LIVING_CHANGE = {"name": {"from": "Ann Old", "to": "Ann New"}}
ERASED_CHANGE = {"phone": {"from": None, "to": "+447700900555"}}
PATIENT = table(Patient)


@pytest.fixture(params=["postgresql", "sqlite"])
def url_at_0012(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database migrated to revision 0012 only."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite'}"
        migrate(Settings(database_url=url), "0012")
        yield url
        return
    name = f"panda_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(Settings(database_url=url), "0012")
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_earlier_patient_changes_are_sealed_or_reduced(url_at_0012: str) -> None:
    settings = Settings(database_url=url_at_0012)
    engine = make_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(
            insert(PATIENT).values(
                nhs_number=LIVING,
                name="Ann New",
                name_search="ann new",
                date_of_birth=dt.date(1970, 1, 1),
                postcode="N1 9GU",
            )
        )
        for patient, changes in ((LIVING, LIVING_CHANGE), (ERASED, ERASED_CHANGE)):
            row = event_row(ANONYMOUS, Action.UPDATE, 200, resource_type=ResourceType.PATIENT, patient=patient)
            await connection.execute(insert(AUDIT_EVENT).values({**row, "changes": json.dumps(changes)}))
    await engine.dispose()

    await asyncio.to_thread(migrate, settings)

    engine = make_engine(settings)
    async with engine.connect() as connection:
        rows = dict((await connection.execute(text("SELECT patient, changes FROM audit_event"))).all())
        keys = dict((await connection.execute(text("SELECT patient, key FROM patient_audit_key"))).all())
        if engine.dialect.name == "postgresql":  # the append-only trigger is on again
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text("UPDATE audit_event SET actor = 'someone'"))
    await engine.dispose()
    assert "Ann Old" not in rows[LIVING] and "+447700900555" not in rows[ERASED]
    assert set(keys) == {LIVING}
    assert unseal(json.loads(rows[LIVING]), LIVING, bytes(keys[LIVING])) == LIVING_CHANGE
    assert unseal(json.loads(rows[ERASED]), ERASED, None) == {"phone": ERASED_VALUE}
