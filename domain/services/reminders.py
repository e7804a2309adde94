"""Reminder rows: planned when an appointment is booked, cancelled when it will not happen."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, insert, update

from domain.clock import utcnow
from domain.config import get_settings
from domain.models import Reminder, table
from domain.rules import plan_reminders
from domain.sql import Query, SqlRunner

REMINDER = table(Reminder)
PENDING = ("scheduled",)
INSERT_REMINDER = Query(
    insert(REMINDER).values(
        {
            name: bindparam(name)
            for name in ("id", "appointment_id", "due_at", "channel", "status", "attempts", "created_at", "updated_at")
        }
    )
)


async def schedule_reminders(sql: SqlRunner, appointment_id: uuid.UUID, start: dt.datetime) -> None:
    """Plan the reminders of an active appointment at the configured offsets before its start."""
    settings = get_settings()
    now = utcnow()
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
        for due in plan_reminders(start, now, settings.reminder_offsets)
    ]
    if rows:
        await sql.execute_many(INSERT_REMINDER, rows)


async def cancel_reminders(sql: SqlRunner, appointment_ids: Sequence[uuid.UUID]) -> None:
    """Reminders not yet sent of these appointments become ``cancelled``; the rows stay as history."""
    if not appointment_ids:
        return
    await sql.execute(
        update(REMINDER)
        .where(REMINDER.c.appointment_id.in_(list(appointment_ids)), REMINDER.c.status.in_(PENDING))
        .values(status="cancelled", updated_at=utcnow())
    )
