"""A booking's rows: the appointment and its reminders (on PostgreSQL with its audit event, in one statement).

On the hot path (an active booking of a known clinician, without a hold) that statement also reads
the clinician's timetable back, and the booking is checked against it afterwards: the write and
the check cost one round trip instead of two. This is safe because the look-up before it took the
clinician's and the patient's timetable locks, so the statement's snapshot, taken when it starts,
already shows every hold, session and absence committed before those locks, and no other writer of
that timetable can commit until this transaction ends. A booking the timetable refuses raises
(409) and its transaction rolls its rows back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert

from domain.audit.events import AuditTrail
from domain.dialects import takes_arrays
from domain.models import Appointment, table
from domain.rules.booking import BookingPlan, check_plan_against_timetable
from domain.rules.reminders import ReminderPolicy
from domain.services.reminders import insert_with_reminders, planned_reminders, reminder_rows, store_reminders
from domain.services.timetables import reading_timetable, timetable_from_rows
from domain.sql import Query, SqlRunner

APPOINTMENT = table(Appointment)
STORED_COLUMNS = [c.name for c in APPOINTMENT.c if c.name != "sa_orm_sentinel"]
INSERT_APPOINTMENT = Query(insert(APPOINTMENT).values({name: bindparam(name) for name in STORED_COLUMNS}))
INSERT_WITH_REMINDERS = insert_with_reminders(INSERT_APPOINTMENT.statement)  # type: ignore[arg-type]
# The same with the request's audit event: a booking, its reminders and its event in one round trip.
INSERT_WITH_REMINDERS_AUDITED = insert_with_reminders(INSERT_APPOINTMENT.statement, audited=True)  # type: ignore[arg-type]
# And answering with the clinician's timetable (see the module's docstring).
WRITE_READING_TIMETABLE = reading_timetable(INSERT_WITH_REMINDERS.statement)
WRITE_READING_TIMETABLE_AUDITED = reading_timetable(INSERT_WITH_REMINDERS_AUDITED.statement)


def statement_params(
    values: Mapping[str, Any], plan: BookingPlan, now: dt.datetime, policy: ReminderPolicy, audit: AuditTrail | None
) -> dict[str, Any]:
    """What the one-statement writes take: the row, its planned reminders as JSON, the event."""
    reminders = reminder_rows(values["id"], plan.reminders_due, policy.channel, now)
    event = audit.bound(audit.success_outcome) if audit is not None else {}
    return {**values, **planned_reminders(reminders, policy.channel), **event}


async def write_booking(
    sql: SqlRunner,
    values: Mapping[str, Any],
    plan: BookingPlan,
    now: dt.datetime,
    policy: ReminderPolicy,
    audit: AuditTrail | None,
) -> None:
    """Insert the appointment and its planned reminders; on PostgreSQL with the request's event, in
    one statement (elsewhere the caller records the event in the same transaction)."""
    if not takes_arrays(sql.dialect):
        await sql.execute(INSERT_APPOINTMENT, **values)
        await store_reminders(sql, reminder_rows(values["id"], plan.reminders_due, policy.channel, now))
        return
    statement = INSERT_WITH_REMINDERS if audit is None else INSERT_WITH_REMINDERS_AUDITED
    await sql.execute(statement, **statement_params(values, plan, now, policy, audit))
    if audit is not None:
        audit.written = True  # committed with the booking, or rolled back with it


async def write_then_check_timetable(
    sql: SqlRunner,
    values: Mapping[str, Any],
    plan: BookingPlan,
    now: dt.datetime,
    policy: ReminderPolicy,
    audit: AuditTrail | None,
) -> None:
    """Write an active booking without a hold, its reminders and its event, then check it against
    its clinician's timetable read by the same statement (409 if refused: roll the transaction back).

    Only inside a transaction holding the booking's timetable locks (PostgreSQL).
    """
    statement = WRITE_READING_TIMETABLE if audit is None else WRITE_READING_TIMETABLE_AUDITED
    timetable = {"ids": [values["clinician_id"]], "start": plan.start, "end": plan.end, "now": now}
    rows = await sql.fetch_all(statement, **statement_params(values, plan, now, policy, audit), **timetable)
    check_plan_against_timetable(plan, timetable_from_rows(rows), now)
    if audit is not None:
        audit.written = True  # committed with the booking, or rolled back with it
