"""Copies of clinicians' timetables, kept by an API process with the version they were read at.

A booking checked against a copy is stored only if the copy's version is still the clinician's
latest once its statement holds the clinician's timetable lock (domain/services/booking_fast.py).
On PostgreSQL every change that could refuse a booking the timetable allowed before (a session
added, changed or removed; an unavailability or a hold added or changed) gives that version a new
random value in the same transaction (migration 0015), so a copy can be out of date but never
taken for the latest: an out-of-date copy sends the booking the long way, which reads the
timetable itself. Removing a hold or an unavailability keeps the version: a copy that still has
it only refuses more, and a refusal by a copy goes the long way too.

A copy is whole: every session, every unavailability, and the holds unexpired when it was read.
A hold expires by the clock, which the rule reads (``Hold.unexpired``), so a copy stays right as
time passes.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import bindparam, select, true

from domain.models import Clinician, table
from domain.rules.slots import Timetable
from domain.services.timetables import timetable_from_rows, timetable_of
from domain.sql import Query, SqlRunner

CLINICIAN = table(Clinician)
# The years every stored time lies in (domain/rules/times.py).
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)

_BY_KEY = CLINICIAN.c.name_key == bindparam("clinician_key")
_ROWS = timetable_of(select(CLINICIAN.c.id).where(_BY_KEY).scalar_subquery()).subquery("timetable")
# The clinician, their version and their timetable, in one statement: one snapshot, so the rows are
# the version's (a change and its new version commit together).
TIMETABLE_COPY = Query(
    select(
        CLINICIAN.c.id.label("copy_clinician_id"),
        CLINICIAN.c.name.label("copy_clinician"),
        CLINICIAN.c.timetable_version.label("copy_version"),
        _ROWS,
    )
    .select_from(CLINICIAN.outerjoin(_ROWS, true()))
    .where(_BY_KEY)
)


@dataclass(frozen=True)
class TimetableCopy:
    """A clinician's whole timetable as it was at ``version``."""

    clinician_id: int
    clinician: str  # the stored spelling of the name
    version: int
    timetable: Timetable


class TimetableCache:
    """The copies one process keeps, by clinician name key; the least recently used go first."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._copies: OrderedDict[str, TimetableCopy] = OrderedDict()

    def __len__(self) -> int:
        return len(self._copies)

    def get(self, clinician_key: str) -> TimetableCopy | None:
        """The copy kept for this clinician, if any."""
        copy = self._copies.get(clinician_key)
        if copy is not None:
            self._copies.move_to_end(clinician_key)
        return copy

    def put(self, clinician_key: str, copy: TimetableCopy) -> None:
        """Keep ``copy``, dropping the least recently used beyond the capacity."""
        self._copies[clinician_key] = copy
        self._copies.move_to_end(clinician_key)
        while len(self._copies) > self.capacity:
            self._copies.popitem(last=False)

    def forget(self, clinician_key: str, version: int) -> None:
        """Drop the copy taken at ``version``, found out of date (a newer one another request put
        in stays): the next booking reads the timetable again."""
        kept = self._copies.get(clinician_key)
        if kept is not None and kept.version == version:
            del self._copies[clinician_key]


async def copy_timetable(sql: SqlRunner, clinician_key: str, now: dt.datetime) -> TimetableCopy | None:
    """Read the clinician's whole timetable and its version (PostgreSQL); None for an unknown clinician."""
    rows = await sql.fetch_all(TIMETABLE_COPY, clinician_key=clinician_key, start=EARLIEST, end=LATEST, now=now)
    if not rows:
        return None
    first = rows[0]
    timetable = timetable_from_rows(row for row in rows if row["kind"] is not None)
    return TimetableCopy(first["copy_clinician_id"], first["copy_clinician"], first["copy_version"], timetable)
