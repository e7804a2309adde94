"""Reminder rows: planned when an appointment is booked, cancelled when it will not happen."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.clock import utcnow
from domain.config import get_settings
from domain.models import Reminder
from domain.rules import plan_reminders

REMINDER = Reminder.__table__
PENDING = ("scheduled",)


async def schedule_reminders(session: AsyncSession, appointment_id: uuid.UUID, start: dt.datetime) -> None:
    """Plan the reminders of an active appointment at the configured offsets before its start."""
    settings = get_settings()
    now = utcnow()
    due_times = plan_reminders(start, now, settings.reminder_offsets)
    if not due_times:
        return
    rows = [
        {
            "id": uuid.uuid4(),
            "appointment_id": appointment_id,
            "due_at": due,
            "channel": settings.reminder_channel,
            "status": "scheduled",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for due in due_times
    ]
    await session.execute(insert(REMINDER), rows)


async def cancel_reminders(session: AsyncSession, appointment_ids: Sequence[uuid.UUID]) -> None:
    """Reminders not yet sent of these appointments become ``cancelled``; the rows stay as history."""
    if not appointment_ids:
        return
    await session.execute(
        update(REMINDER)
        .where(REMINDER.c.appointment_id.in_(appointment_ids), REMINDER.c.status.in_(PENDING))
        .values(status="cancelled", updated_at=utcnow())
    )
