"""What bookings and holds are checked against: clinicians' sessions, unavailability and holds.

Loaded for many clinicians at once (one query per kind), so the bulk import asks as few
questions as one booking does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ARRAY, BigInteger, bindparam, select, text

from domain.dialects import serialises_writes
from domain.models import Schedule, SlotHold, Unavailability, table
from domain.rules.schedules import Session
from domain.rules.slots import Hold, Timetable
from domain.sql import Query, SqlRunner

SCHEDULE = table(Schedule)
UNAVAILABILITY = table(Unavailability)
HOLD = table(SlotHold)

# The same key space as the booking's timetable locks (domain/services/overlap.py): kind 1 is a
# clinician, so holds, schedules and bookings of one clinician queue behind each other.
CLINICIAN_LOCK = Query(
    text("SELECT pg_advisory_xact_lock(key) FROM unnest(:keys) AS timetable(key)").bindparams(
        bindparam("keys", type_=ARRAY(BigInteger))
    )
)


def clinician_lock_key(clinician_id: int) -> int:
    """The advisory-lock key of one clinician's timetable (see ``overlap.timetable_keys``)."""
    return 1 << 56 | clinician_id % (1 << 56)


async def lock_clinician(sql: SqlRunner, clinician_id: int) -> None:
    """Queue behind other writers of this clinician's timetable (PostgreSQL; SQLite serialises all)."""
    if not serialises_writes(sql.dialect):
        await sql.execute(CLINICIAN_LOCK, keys=[clinician_lock_key(clinician_id)])


def session_of(row: Mapping[str, Any]) -> Session:
    """The rules' view of a stored schedule row."""
    return Session(
        weekdays=row["weekdays"],
        start_minute=row["start_minute"],
        end_minute=row["end_minute"],
        slot_minutes=row["slot_minutes"],
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
    )


async def load_timetables(
    sql: SqlRunner, clinician_ids: Collection[int], start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> dict[int, Timetable]:
    """Each clinician's sessions (all of them), and their unavailability and unexpired holds that
    overlap ``[start, end)``: three queries, whatever the number of clinicians."""
    ids = sorted(set(clinician_ids))
    timetables = {clinician: Timetable() for clinician in ids}
    if not ids:
        return timetables
    sessions = select(SCHEDULE).where(SCHEDULE.c.clinician_id.in_(ids))
    for row in await sql.fetch_all(sessions):
        timetables[row["clinician_id"]].sessions.append(session_of(row))
    leave = select(UNAVAILABILITY.c.clinician_id, UNAVAILABILITY.c.starts_at, UNAVAILABILITY.c.ends_at).where(
        UNAVAILABILITY.c.clinician_id.in_(ids), UNAVAILABILITY.c.starts_at < end, UNAVAILABILITY.c.ends_at > start
    )
    for row in await sql.fetch_all(leave):
        timetables[row["clinician_id"]].unavailable.append((row["starts_at"], row["ends_at"]))
    holds = select(HOLD.c.id, HOLD.c.clinician_id, HOLD.c.starts_at, HOLD.c.ends_at, HOLD.c.expires_at).where(
        HOLD.c.clinician_id.in_(ids), HOLD.c.starts_at < end, HOLD.c.ends_at > start, HOLD.c.expires_at > now
    )
    for row in await sql.fetch_all(holds):
        hold = Hold(row["id"], row["starts_at"], row["ends_at"], row["expires_at"])
        timetables[row["clinician_id"]].holds.append(hold)
    return timetables
