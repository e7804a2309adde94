"""What bookings and holds are checked against: clinicians' sessions, unavailability and holds.

Loaded for many clinicians at once (one query per kind), so the bulk import asks as few
questions as one booking does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import ARRAY, BigInteger, DateTime, any_, bindparam, cast, literal, null, select, union_all

from domain.dialects import serialises_writes, takes_arrays
from domain.models import Schedule, SlotHold, Unavailability, table
from domain.rules.schedules import Session
from domain.rules.slots import Hold, Timetable
from domain.services.overlap import TIMETABLE_LOCKS, timetable_keys
from domain.sql import Query, SqlRunner

SCHEDULE = table(Schedule)
UNAVAILABILITY = table(Unavailability)
HOLD = table(SlotHold)


def _timetable_queries(of_schedule: Any, of_leave: Any, of_hold: Any) -> tuple[Query, Query, Query]:
    """Sessions, unavailability and unexpired holds overlapping ``[:start, :end)`` of the clinicians
    each condition names."""
    start, end = bindparam("start", type_=DateTime(timezone=True)), bindparam("end", type_=DateTime(timezone=True))
    sessions = select(SCHEDULE).where(of_schedule)
    leave = select(UNAVAILABILITY.c.clinician_id, UNAVAILABILITY.c.starts_at, UNAVAILABILITY.c.ends_at).where(
        of_leave, UNAVAILABILITY.c.starts_at < end, UNAVAILABILITY.c.ends_at > start
    )
    holds = select(HOLD.c.id, HOLD.c.clinician_id, HOLD.c.starts_at, HOLD.c.ends_at, HOLD.c.expires_at).where(
        of_hold, HOLD.c.starts_at < end, HOLD.c.ends_at > start,
        HOLD.c.expires_at > bindparam("now", type_=DateTime(timezone=True)),
    )  # fmt: skip
    return Query(sessions), Query(leave), Query(holds)


def _as_one_query(queries: tuple[Query, Query, Query]) -> Query:
    """The three queries as one ``UNION ALL`` (a booking's round trip fewer), each row tagged with its
    ``kind`` and padded with typed NULLs to the same columns."""
    columns = {"clinician_id": SCHEDULE.c.clinician_id}
    for query in queries:
        for column in query.statement.selected_columns:  # type: ignore[attr-defined]
            columns.setdefault(_union_name(column), column)
    parts = []
    for kind, query in zip(("session", "leave", "hold"), queries, strict=True):
        present = {_union_name(c): c for c in query.statement.selected_columns}  # type: ignore[attr-defined]
        padded = [present.get(name, cast(null(), column.type)).label(name) for name, column in columns.items()]
        parts.append(query.statement.with_only_columns(literal(kind).label("kind"), *padded))  # type: ignore[attr-defined]
    return Query(union_all(*parts))


def _union_name(column: Any) -> str:
    """A column's name in the union: a hold's id is ``hold_id`` (a schedule's id is another type)."""
    return f"{column.table.name}_{column.name}" if column.name == "id" else str(column.name)


_IDS = bindparam("ids", type_=ARRAY(BigInteger))
_TIMETABLE_BY_ARRAY = _as_one_query(
    _timetable_queries(
        SCHEDULE.c.clinician_id == any_(_IDS),
        UNAVAILABILITY.c.clinician_id == any_(_IDS),
        HOLD.c.clinician_id == any_(_IDS),
    )
)


def timetable_of(clinician_id: Any) -> Any:
    """The timetable rows (as :func:`timetable_from_rows` reads them) of the one clinician whose id
    is the SQL ``clinician_id``, over ``[:start, :end)`` with the holds unexpired at ``:now``."""
    return _as_one_query(
        _timetable_queries(
            SCHEDULE.c.clinician_id == clinician_id,
            UNAVAILABILITY.c.clinician_id == clinician_id,
            HOLD.c.clinician_id == clinician_id,
        )
    ).statement


def reading_timetable(write: Any) -> Query:
    """PostgreSQL: the data-modifying ``write`` (its CTEs hoisted into one ``WITH``) answering with the
    timetable rows of the clinicians ``:ids`` over ``[:start, :end)``, for :func:`timetable_from_rows`.

    The statement's snapshot is taken when it starts: run it under the clinicians' timetable locks
    and the timetable it reads is the one its write must fit.
    """
    return Query(_TIMETABLE_BY_ARRAY.statement.add_cte(write.cte("written")))  # type: ignore[attr-defined]


def timetable_from_rows(rows: Iterable[Mapping[str, Any]]) -> Timetable:
    """One clinician's timetable from the rows :func:`reading_timetable` answered with."""
    timetable = Timetable()
    for row in rows:
        _add(timetable, row["kind"], row, "slot_hold_id")
    return timetable


async def lock_clinician(sql: SqlRunner, clinician_id: int) -> None:
    """Queue behind other writers of this clinician's timetable (PostgreSQL; SQLite serialises all)."""
    await lock_clinicians(sql, [clinician_id])


async def lock_clinicians(sql: SqlRunner, clinician_ids: Iterable[int]) -> None:
    """Queue behind other writers of these clinicians' timetables, taking the locks in the one order
    every writer uses (PostgreSQL; SQLite serialises all): the booking's keys (domain/services/
    overlap.py), so holds, schedules, imports and bookings of one clinician queue behind each other."""
    keys = sorted({key for clinician_id in clinician_ids for key in timetable_keys({"clinician_id": clinician_id})})
    if keys and not serialises_writes(sql.dialect):
        await sql.execute(TIMETABLE_LOCKS, keys=keys)


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
    overlap ``[start, end)``: one query on PostgreSQL, three elsewhere, whatever the number of clinicians."""
    ids = sorted(set(clinician_ids))
    timetables = {clinician: Timetable() for clinician in ids}
    if not ids:
        return timetables
    params: dict[str, Any] = {"start": start, "end": end, "now": now}
    if takes_arrays(sql.dialect):  # one constant statement, compiled once (a booking's hot path)
        for row in await sql.fetch_all(_TIMETABLE_BY_ARRAY, ids=ids, **params):
            _add(timetables[row["clinician_id"]], row["kind"], row, "slot_hold_id")
        return timetables
    queries = _timetable_queries(SCHEDULE.c.clinician_id.in_(ids), UNAVAILABILITY.c.clinician_id.in_(ids),
                                 HOLD.c.clinician_id.in_(ids))  # fmt: skip
    for kind, query in zip(("session", "leave", "hold"), queries, strict=True):
        for row in await sql.fetch_all(query, **params):
            _add(timetables[row["clinician_id"]], kind, row, "id")
    return timetables


def _add(timetable: Timetable, kind: str, row: Mapping[str, Any], hold_id: str) -> None:
    """Put one looked-up row (a session, an unavailability, a hold) in its clinician's timetable."""
    if kind == "session":
        timetable.sessions.append(session_of(row))
    elif kind == "leave":
        timetable.unavailable.append((row["starts_at"], row["ends_at"]))
    else:
        timetable.holds.append(Hold(row[hold_id], row["starts_at"], row["ends_at"], row["expires_at"]))
