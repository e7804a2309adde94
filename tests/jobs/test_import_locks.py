"""An import takes its clinicians' timetable locks, as the API's writers do: a hold being taken
while a chunk is checked is waited for, and then refuses the row it covers."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from domain.jobs import appointments
from domain.jobs.outcome import ChunkOutcome
from domain.jobs.readers import Row
from domain.models import Clinician, table
from domain.services.slots import INSERT_HOLD
from domain.services.timetables import lock_clinician
from domain.sql import SessionRunner
from tests.http.helpers import book, create_patient

PATIENT = "9434765919"
CLINICIAN = "Dr Race"


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite serialises every writer anyway
async def test_an_import_waits_for_a_hold_being_taken_and_then_refuses_its_slot(client, sessions, settings) -> None:
    await create_patient(client, PATIENT)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    await book(client, PATIENT, now + dt.timedelta(days=30), clinician=CLINICIAN)  # the clinician is stored
    start = now + dt.timedelta(days=2)

    async with sessions() as holding, holding.begin():
        sql = SessionRunner(holding)
        clinician_id = (await holding.execute(select(table(Clinician).c.id))).scalar_one()
        # What SlotService.hold does, stopped before its commit.
        await lock_clinician(sql, clinician_id)
        await sql.execute(
            INSERT_HOLD,
            id=uuid.uuid4(),
            clinician_id=clinician_id,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=30),
            expires_at=now + dt.timedelta(minutes=10),
            created_at=now,
            updated_at=now,
        )
        row = {"patient": PATIENT, "time": start.isoformat(), "duration": "30m", "clinician": CLINICIAN,
               "department": "Cardiology", "postcode": "N6 2FA"}  # fmt: skip

        async def import_chunk() -> ChunkOutcome:
            async with sessions() as importing, importing.begin():
                return await appointments.settle(
                    SessionRunner(importing), uuid.uuid4(), True, [Row(2, row)], dt.datetime.now(dt.UTC),
                    settings.reminder_policy,
                )  # fmt: skip

        chunk = asyncio.create_task(import_chunk())
        await asyncio.sleep(0.5)
        assert not chunk.done(), "the chunk must wait for the hold being taken"
    outcome = await asyncio.wait_for(chunk, 10)
    assert (outcome.imported, [(number, error.code) for number, error in outcome.errors]) == (0, [(2, "slot.held")])
