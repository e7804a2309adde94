"""Reminder rows: planned when an appointment is booked, cancelled when it will not happen."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import (
    JSON,
    DateTime,
    Insert,
    Text,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from domain.audit.events import event_for_each
from domain.clock import utcnow
from domain.models import Reminder, table
from domain.random_ids import random_uuid
from domain.rules import plan_reminders
from domain.rules.reminders import ReminderPolicy, ReminderStatus
from domain.sql import Query, SqlRunner

REMINDER = table(Reminder)
_JSON = msgspec.json.Encoder()
PENDING = (ReminderStatus.SCHEDULED.value,)
INSERT_REMINDER = Query(
    insert(REMINDER).values(
        {
            name: bindparam(name)
            for name in ("id", "appointment_id", "due_at", "channel", "status", "attempts", "created_at", "updated_at")
        }
    )
)


def reminder_rows(
    appointment_id: uuid.UUID, due_times: Iterable[dt.datetime], channel: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """Reminder rows of an active appointment, one per planned due time."""
    return [
        {
            "id": random_uuid(),
            "appointment_id": appointment_id,
            "due_at": due,
            "channel": channel,
            "status": ReminderStatus.SCHEDULED.value,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for due in due_times
    ]


async def schedule_reminders(
    sql: SqlRunner, appointment_id: uuid.UUID, start: dt.datetime, policy: ReminderPolicy, now: dt.datetime
) -> None:
    """Plan the reminders of an active appointment at the policy's offsets before its start."""
    due = plan_reminders(start, now, policy.offsets_minutes)
    await store_reminders(sql, reminder_rows(appointment_id, due, policy.channel, now))


async def store_reminders(sql: SqlRunner, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert planned reminder rows (none is fine)."""
    if rows:
        await sql.execute_many(INSERT_REMINDER, rows)


def insert_with_reminders(insert_appointment: Insert, *, audited: bool = False) -> Query:
    """PostgreSQL: ``insert_appointment`` and the planned reminders in one statement (a round trip
    fewer per booking); the reminders come as one JSON array, so their number may vary. ``audited``: the
    request's audit event goes in the same statement (bound as ``audit_event``, see ``with_event``)."""
    booked = insert_appointment.returning(insert_appointment.table.c.id).cte("booked")  # type: ignore[attr-defined]
    return Query(reminders_of(booked, audited=audited))


def reminders_of(booked: Any, *, audited: bool = False) -> Insert:
    """PostgreSQL: the planned reminders (bound as :func:`planned_reminders` gives them) of each
    appointment the data-modifying CTE ``booked`` inserts, with ``booked`` (and, ``audited``, the
    request's event for each) as CTEs of the statement."""
    planned = (
        func.json_to_recordset(cast(bindparam("planned_reminders", type_=Text()), JSON()))
        .table_valued(column("id", Uuid()), column("due_at", DateTime(timezone=True)))
        .render_derived(name="planned", with_types=True)
    )
    reminders = select(
        planned.c.id,
        booked.c.id,
        planned.c.due_at,
        bindparam("channel"),
        literal(ReminderStatus.SCHEDULED.value),
        literal(0),
        bindparam("created_at"),
        bindparam("created_at"),
    ).select_from(booked.join(planned, true()))
    columns = ["id", "appointment_id", "due_at", "channel", "status", "attempts", "created_at", "updated_at"]
    statement = insert(REMINDER).from_select(columns, reminders).add_cte(booked)
    if audited:
        statement = statement.add_cte(event_for_each(booked))
    return statement


def planned_reminders(rows: Sequence[Mapping[str, Any]], channel: str) -> dict[str, Any]:
    """The parameters :func:`insert_with_reminders` takes for ``rows``: their ids and due times as
    one JSON array. Bound as two arrays they cost a booking ~40k instructions more (asyncpg
    inspects every element of an array it binds)."""
    return {
        "planned_reminders": _JSON.encode([{"id": row["id"], "due_at": row["due_at"]} for row in rows]).decode(),
        "channel": channel,
    }


async def cancel_reminders(sql: SqlRunner, appointment_ids: Sequence[uuid.UUID]) -> None:
    """Reminders not yet sent of these appointments become ``cancelled``; the rows stay as history."""
    if not appointment_ids:
        return
    await sql.execute(
        update(REMINDER)
        .where(REMINDER.c.appointment_id.in_(list(appointment_ids)), REMINDER.c.status.in_(PENDING))
        .values(status=ReminderStatus.CANCELLED.value, updated_at=utcnow())
    )
