"""Fast test data for reminder tests: patients, appointments and due reminders written with Core.

Bookings through the service plan reminders in the future; these tests need reminders that are
due *now*, in bulk, so they write the rows directly (the planning itself is tested elsewhere).
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import utcnow
from domain.models import Appointment, Clinician, Department, OutboxMessage, Patient, Reminder
from tests.factories import valid_nhs_numbers

APPOINTMENT_MINUTES = 30


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed_due_reminders` stored."""

    reminder_ids: list[uuid.UUID]
    appointment_ids: list[uuid.UUID]


async def _entity(session: AsyncSession, table: Any, name: str) -> int:
    key = name.casefold()
    found = (await session.execute(select(table.c.id).where(table.c.name_key == key))).scalar_one_or_none()
    if found is not None:
        return int(found)
    stmt = insert(table).values(name=name, name_key=key).returning(table.c.id)
    return int((await session.execute(stmt)).scalar_one())


async def seed_due_reminders(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    *,
    channel: str = "outbox",
    email: str | None = "patient@example.org",
    phone: str | None = None,
    starts_in: dt.timedelta = dt.timedelta(days=1),
    due_ago: dt.timedelta = dt.timedelta(seconds=1),
    status: str = "active",
    first_patient: int = 0,
    reminder_preference: str | None = None,
    language: str = "en",
    name: str = "Seeded Patient",
) -> Seeded:
    """``count`` patients, each with one appointment and one reminder already due."""
    now = utcnow()
    numbers = itertools.islice(valid_nhs_numbers(500_000_000 + first_patient * 20), count)
    async with sessions() as session, session.begin():
        clinician_id = await _entity(session, Clinician.__table__, f"Dr Seed {uuid.uuid4().hex[:8]}")
        department_id = await _entity(session, Department.__table__, "Cardiology")
        patients = [
            {
                "nhs_number": number,
                "name": name,
                "name_search": name.casefold(),
                "date_of_birth": dt.date(1980, 1, 1),
                "postcode": "N6 2FA",
                "email": email,
                "phone": phone,
                "reminder_preference": reminder_preference,
                "language": language,
                "created_at": now,
                "updated_at": now,
            }
            for number in numbers
        ]
        stmt = insert(Patient.__table__).returning(Patient.__table__.c.id, sort_by_parameter_order=True)
        patient_ids = (await session.execute(stmt, patients)).scalars().all()
        appointments = []
        for index, patient_id in enumerate(patient_ids):
            start = now + starts_in + dt.timedelta(minutes=APPOINTMENT_MINUTES * index)
            appointments.append(
                {
                    "id": uuid.uuid4(),
                    "patient_id": patient_id,
                    "clinician_id": clinician_id,
                    "department_id": department_id,
                    "status": status,
                    "starts_at": start,
                    "ends_at": start + dt.timedelta(minutes=APPOINTMENT_MINUTES),
                    "duration_minutes": APPOINTMENT_MINUTES,
                    "postcode": "SW1A 1AA",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        await session.execute(insert(Appointment.__table__), appointments)
        reminders = [
            {
                "id": uuid.uuid4(),
                "appointment_id": appointment["id"],
                "due_at": now - due_ago,
                "channel": channel,
                "status": "scheduled",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for appointment in appointments
        ]
        await session.execute(insert(Reminder.__table__), reminders)
    return Seeded([r["id"] for r in reminders], [a["id"] for a in appointments])


async def reminder_states(sessions: async_sessionmaker[AsyncSession]) -> dict[uuid.UUID, Any]:
    """Every reminder's stored row, by id."""
    async with sessions() as session:
        rows = (await session.execute(select(Reminder.__table__))).mappings().all()
    return {row["id"]: row for row in rows}


async def status_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """How many reminders are in each status."""
    table = Reminder.__table__
    async with sessions() as session:
        rows = (await session.execute(select(table.c.status, func.count()).group_by(table.c.status))).tuples()
        return {str(status): int(count) for status, count in rows}


async def outbox_counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """Outbox messages in all, and distinct reminders among them."""
    table = OutboxMessage.__table__
    stmt = select(func.count(), func.count(func.distinct(table.c.reminder_id)))
    async with sessions() as session:
        total, distinct = (await session.execute(stmt)).one()
    return int(total), int(distinct)
