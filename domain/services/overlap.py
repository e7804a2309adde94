"""The no-overlap rule: checked here on the embedded database, serialised here on PostgreSQL.

PostgreSQL enforces it with exclusion constraints (see the initial migration). Two transactions
writing clashing rows at once can deadlock inside that check (each waits for the other's
uncommitted row, and the database aborts one a second later), which under load repeated until
a booking failed. So writes to one clinician's or one patient's timetable first take a
transaction-scoped advisory lock, always in the same order: clashing writes queue, and the
constraint then refuses the later one with a plain 409.

SQLite runs every write transaction as ``BEGIN IMMEDIATE``, so checking and then writing inside
one transaction cannot interleave with another booking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ARRAY, BigInteger, bindparam, func, literal, select, text, true
from sqlalchemy.dialects import postgresql

from domain.dialects import serialises_writes
from domain.errors import Conflict
from domain.models import Appointment, table
from domain.rules import Status
from domain.sql import Query, SqlRunner

APPOINTMENT = table(Appointment)


def _overlapping(column: str) -> Query:
    col = APPOINTMENT.c
    return Query(
        select(col.id)
        .where(
            col[column] == bindparam("owner"),
            col.status == Status.ACTIVE.value,
            col.starts_at < bindparam("ends_at"),
            col.ends_at > bindparam("starts_at"),
            col.id != bindparam("id"),
        )
        .limit(1)
    )


CHECKS = (
    ("clinician_id", _overlapping("clinician_id"), "appointment.clinician_overlap"),
    ("patient_id", _overlapping("patient_id"), "appointment.patient_overlap"),
)


# One round trip for every key; unnest yields the keys in array order, so the lock order holds.
TIMETABLE_LOCKS = Query(
    text("SELECT pg_advisory_xact_lock(key) FROM unnest(:keys) AS timetable(key)").bindparams(
        bindparam("keys", type_=ARRAY(BigInteger))
    )
)
_KINDS = {"clinician_id": 1, "patient_id": 2}


def _lock_key(kind: int, owner: Any) -> Any:
    """SQL for :func:`timetable_keys`'s key of one owner (NULL when the owner is)."""
    return literal(kind << 56, BigInteger).op("|")(owner % literal(1 << 56, BigInteger))


def with_timetable_locks(lookup: Any) -> Query:
    """PostgreSQL: ``lookup`` (one row with ``clinician_id`` and ``patient_id``) that also takes both
    timetable locks, in :func:`timetable_keys`'s order: a booking's round trip fewer. An owner the
    lookup did not find (NULL) is not locked: lock it once it exists."""
    found = lookup.cte("found")
    keys = func.unnest(
        postgresql.array([_lock_key(_KINDS["clinician_id"], found.c.clinician_id),
                          _lock_key(_KINDS["patient_id"], found.c.patient_id)])
    ).table_valued("key").render_derived(name="timetable")  # fmt: skip
    locks = (
        select(func.count(func.pg_advisory_xact_lock(keys.c.key)).label("locked"))
        .select_from(found.join(keys, true()))
        .where(keys.c.key.is_not(None))
        .cte("locks")
    )
    return Query(select(found, locks.c.locked).select_from(found.join(locks, true())))


def timetable_keys(candidate: Mapping[str, Any]) -> list[int]:
    """Advisory-lock keys of the candidate's clinician and patient, in the one order every writer uses."""
    return sorted(kind << 56 | int(candidate[column]) % (1 << 56) for column, kind in _KINDS.items()
                  if candidate.get(column) is not None)  # fmt: skip


async def lock_timetables(sql: SqlRunner, candidate: Mapping[str, Any]) -> None:
    """Queue behind other writes to the candidate's clinician's and patient's timetables (PostgreSQL;
    SQLite serialises every write)."""
    if not serialises_writes(sql.dialect):
        await sql.execute(TIMETABLE_LOCKS, keys=timetable_keys(candidate))


async def ensure_no_overlap(sql: SqlRunner, candidate: Mapping[str, Any], *, locked: bool = False) -> None:
    """Refuse ``candidate`` if an active appointment of its clinician or patient overlaps it.

    On PostgreSQL, queue behind other writes to the same timetables (unless ``locked``: the caller
    already holds :func:`lock_timetables`); the constraint decides.
    """
    if not serialises_writes(sql.dialect):
        if not locked:
            await lock_timetables(sql, candidate)
        return
    for column, query, code in CHECKS:
        if candidate.get(column) is None:
            continue
        params = {"owner": candidate[column], "starts_at": candidate["starts_at"], "ends_at": candidate["ends_at"]}
        if await sql.scalar(query, id=candidate["id"], **params) is not None:
            raise Conflict(code)
