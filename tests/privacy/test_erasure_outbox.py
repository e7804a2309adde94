"""Erasure removes every outbox message that names the patient, whatever became of the appointment.

An outbox message holds the patient's e-mail address (or phone) and the appointment's place.
Deleting a mistaken appointment keeps its reminders as history, so its messages stay; erasing
the patient afterwards must still remove them. Both databases, through the HTTP API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from advanced_alchemy.alembic.commands import AlembicCommands
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from domain.db import make_db_config, make_engine
from domain.migrate import migrate
from domain.models import OutboxMessage, Reminder
from domain.services.dispatch import drain
from tests.factories import nhs_number, now
from tests.http.helpers import book, create_patient
from tests.privacy.scratch import drop_scratch_database, scratch_database

HOUR = dt.timedelta(hours=1)
REMINDER = Reminder.__table__
OUTBOX = OutboxMessage.__table__
EMAIL = "erasure.probe@privacy-probe.example"
PLACE = "ZE2 9QX"


async def send_due_reminders(sessions, settings, appointment_id: str) -> None:
    """Time passes: the appointment's reminders fall due and the outbox channel records them."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(REMINDER)
            .where(REMINDER.c.appointment_id == uuid.UUID(appointment_id))
            .values(due_at=now() - dt.timedelta(seconds=1))
        )
    await drain(sessions, "outbox", settings, 10)


async def outbox(client) -> list[dict]:
    response = await client.get("/outbox", params={"limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_erasure_removes_messages_of_deleted_appointments(client, sessions, settings) -> None:
    await create_patient(client, nhs_number(1), email=EMAIL)
    await create_patient(client, nhs_number(2), email="someone.else@example.org")
    deleted = await book(client, nhs_number(1), now() + 72 * HOUR, postcode=PLACE, clinician="Dr A")
    kept = await book(client, nhs_number(1), now() + 96 * HOUR, postcode=PLACE, clinician="Dr A")
    other = await book(client, nhs_number(2), now() + 72 * HOUR, clinician="Dr B")
    for appointment in (deleted, kept, other):
        await send_due_reminders(sessions, settings, appointment["id"])
    assert (await client.delete(f"/appointments/{deleted['id']}")).status_code == 204
    assert len(await outbox(client)) == 6, "deleting an appointment keeps its messages (history)"

    assert (await client.delete(f"/patients/{nhs_number(1)}")).status_code == 204

    remaining = await outbox(client)
    assert {m["appointment"] for m in remaining} == {other["id"]}, "only the other patient's messages stay"
    text = repr(remaining)
    assert EMAIL not in text and PLACE not in text


async def test_erasure_removes_older_messages_addressed_to_the_patient(client, sessions, settings) -> None:
    """A message recorded before messages named their patient, its appointment since deleted."""
    await create_patient(client, nhs_number(1), email=EMAIL)
    await create_patient(client, nhs_number(2), email="someone.else@example.org")
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR, postcode=PLACE)
    other = await book(client, nhs_number(2), now() + 72 * HOUR, clinician="Dr B")
    for booked in (appointment, other):
        await send_due_reminders(sessions, settings, booked["id"])
    async with sessions() as session, session.begin():
        await session.execute(update(OUTBOX).values(patient_id=None))  # as migration 0006 leaves them
    assert (await client.delete(f"/appointments/{appointment['id']}")).status_code == 204

    assert (await client.delete(f"/patients/{nhs_number(1)}")).status_code == 204

    assert {m["appointment"] for m in await outbox(client)} == {other["id"]}


async def test_migration_0006_names_the_patient_of_existing_messages(settings, tmp_path) -> None:
    """Downgraded to 0005 and upgraded again, messages regain their appointment's patient."""
    scratch = await scratch_database(settings, tmp_path)
    try:
        await asyncio.to_thread(migrate, scratch)
        engine = make_engine(scratch)
        app = create_app(scratch)
        async with AsyncTestClient(app=app) as client:
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            await create_patient(client, nhs_number(1), email=EMAIL)
            appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
            await send_due_reminders(sessions, scratch, appointment["id"])
        async with engine.connect() as connection:
            before = (await connection.execute(select(OUTBOX.c.id, OUTBOX.c.patient_id))).all()
        await engine.dispose()
        assert len(before) == 2 and all(patient_id is not None for _, patient_id in before)

        await asyncio.to_thread(AlembicCommands(make_db_config(scratch)).downgrade, "0005")
        await asyncio.to_thread(migrate, scratch)

        engine = make_engine(scratch)
        async with engine.connect() as connection:
            after = (await connection.execute(select(OUTBOX.c.id, OUTBOX.c.patient_id))).all()
        await engine.dispose()
        assert sorted(after) == sorted(before)
    finally:
        await drop_scratch_database(scratch)
