"""Migration 0011 fills the rollup from the appointments already stored, and installs its triggers."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from advanced_alchemy.alembic.commands import AlembicCommands
from litestar.testing import AsyncTestClient
from sqlalchemy import insert, select

from api.app import create_app
from domain.db import make_db_config, make_engine
from domain.migrate import migrate
from domain.models import Appointment, AppointmentDayTotal, table
from domain.services.rollup import rebuild_rollup
from tests.factories import nhs_number
from tests.http.helpers import book, create_patient
from tests.privacy.scratch import drop_scratch_database, scratch_database

ROLLUP = table(AppointmentDayTotal)
APPOINTMENT = table(Appointment)
KEYS = (ROLLUP.c.day, ROLLUP.c.clinician_id, ROLLUP.c.department_id)


async def test_migration_0011_fills_the_rollup_from_existing_appointments(settings, tmp_path) -> None:
    scratch = await scratch_database(settings, tmp_path)
    try:
        await asyncio.to_thread(migrate, scratch)
        async with AsyncTestClient(app=create_app(scratch)) as client:
            await create_patient(client, nhs_number(1))
            # 00:30 UTC on 30 March 2025 is 00:30 GMT; 23:30 UTC on 31 March is 1 April in London.
            for start, status in (("2025-03-30T00:30:00+00:00", "missed"), ("2025-03-31T23:30:00+00:00", "attended")):
                await book(client, nhs_number(1), dt.datetime.fromisoformat(start), status=status, duration="45m")
        await asyncio.to_thread(AlembicCommands(make_db_config(scratch)).downgrade, "0010")

        engine = make_engine(scratch)
        async with engine.begin() as connection:  # written while no trigger exists
            row = (await connection.execute(select(APPOINTMENT).limit(1))).mappings().one()
            copy = {**row, "id": uuid.uuid4(), "status": "missed",
                    "starts_at": dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC),
                    "ends_at": dt.datetime(2025, 10, 26, 1, 15, tzinfo=dt.UTC)}  # fmt: skip
            await connection.execute(insert(APPOINTMENT).values(copy))
        await engine.dispose()
        await asyncio.to_thread(migrate, scratch)

        engine = make_engine(scratch)
        async with engine.connect() as connection:
            filled = (await connection.execute(select(ROLLUP).order_by(*KEYS))).all()
            await rebuild_rollup(connection)
            rebuilt = (await connection.execute(select(ROLLUP).order_by(*KEYS))).all()
            await connection.rollback()
        await engine.dispose()
        assert [(str(r.day), r.appointments, r.missed, r.missed_minutes) for r in filled] == [
            ("2025-03-30", 1, 1, 45),
            ("2025-04-01", 1, 0, 0),
            ("2025-10-26", 1, 1, 45),  # 00:30 UTC is 01:30 BST, before the clocks go back
        ]
        assert filled == rebuilt
    finally:
        await drop_scratch_database(scratch)
