"""The missed-status sweep on both databases: only ended, stored-active appointments change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from domain.models import Appointment
from domain.rules.reminders import ReminderPolicy
from domain.services.appointments import AppointmentService
from domain.services.sweep import sweep_missed
from tests.reminders.seed import seed_due_reminders

MINUTE = dt.timedelta(minutes=1)


async def stored_statuses(sessions, ids) -> list[str]:
    async with sessions() as session:
        rows = (await session.execute(select(Appointment.id, Appointment.status).where(Appointment.id.in_(ids)))).all()
    by_id = dict(rows)
    return [by_id[i] for i in ids]


async def test_an_ended_active_appointment_reads_missed_before_the_sweep_stores_it(sessions) -> None:
    ended = (await seed_due_reminders(sessions, 1, starts_in=-31 * MINUTE)).appointment_ids[0]

    assert await stored_statuses(sessions, [ended]) == ["active"]
    async with sessions() as session:
        assert (
            await AppointmentService(session=session, reminders=ReminderPolicy()).read(str(ended))
        ).status == "missed"

    assert await sweep_missed(sessions) == 1
    assert await stored_statuses(sessions, [ended]) == ["missed"]
    assert await sweep_missed(sessions) == 0, "a second sweep finds nothing left to do"


async def test_the_sweep_leaves_everything_else_alone(sessions) -> None:
    in_progress = (await seed_due_reminders(sessions, 1, starts_in=-10 * MINUTE, first_patient=1)).appointment_ids
    future = (await seed_due_reminders(sessions, 1, starts_in=60 * MINUTE, first_patient=2)).appointment_ids
    final = []
    for index, status in enumerate(("attended", "cancelled")):
        seeded = await seed_due_reminders(sessions, 1, starts_in=-90 * MINUTE, status=status, first_patient=3 + index)
        final += seeded.appointment_ids

    assert await sweep_missed(sessions) == 0

    ids = [*in_progress, *future, *final]
    assert await stored_statuses(sessions, ids) == ["active", "active", "attended", "cancelled"]
