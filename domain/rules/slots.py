"""Free slots and booking against schedules (SPEC §10): plain functions over intervals.

Busy time is anything that blocks a clinician: active appointments, unexpired holds and
unavailability. Intervals are half-open, as for appointments: back-to-back is fine.
"""

from __future__ import annotations

import bisect
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from domain.errors import Conflict
from domain.rules.schedules import Session, covering_occurrence, occurrences_between, slot_starts

Interval = tuple[dt.datetime, dt.datetime]
MAX_SEARCH_DAYS = 31


class BusyTimes:
    """A clinician's busy intervals, sorted, for quick "does this overlap any?" questions."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged: list[list[dt.datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [start for start, _end in merged]
        self._ends = [end for _start, end in merged]

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        """True when ``[start, end)`` shares an instant with a busy interval."""
        # The last merged interval starting before ``end`` is the only one that can overlap.
        index = bisect.bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start


def free_starts(
    sessions: Iterable[Session],
    busy: BusyTimes,
    duration_minutes: int | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
) -> Iterator[tuple[dt.datetime, dt.datetime, Session]]:
    """Free candidate slots of ``sessions`` starting in ``[window_start, window_end)``.

    ``duration_minutes`` defaults, per session, to its slot length. A candidate is free when its
    interval overlaps nothing in ``busy``.
    """
    for session in sessions:
        length = duration_minutes or session.slot_minutes
        for found in occurrences_between(session, window_start, window_end + dt.timedelta(minutes=length)):
            for start in slot_starts(session, found, length):
                end = start + dt.timedelta(minutes=length)
                if window_start <= start < window_end and not busy.overlaps(start, end):
                    yield start, end, session


def check_search_range(start: dt.datetime, end: dt.datetime) -> str | None:
    """The code of what is wrong with a slot search's range, if anything."""
    if end < start:
        return "range.order"
    if end - start > dt.timedelta(days=MAX_SEARCH_DAYS):
        return "range.too_long"
    return None


@dataclass(frozen=True)
class Hold:
    """A short reservation of a clinician's interval while a patient decides."""

    id: uuid.UUID
    start: dt.datetime
    end: dt.datetime
    expires_at: dt.datetime

    def unexpired(self, now: dt.datetime) -> bool:
        """An expired hold blocks nothing, even before the sweep deletes it."""
        return self.expires_at > now


@dataclass
class Timetable:
    """What a booking of one clinician is checked against: their sessions, leave and holds."""

    sessions: list[Session] = field(default_factory=list)
    unavailable: list[Interval] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)


def check_against_timetable(
    timetable: Timetable,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    hold_id: uuid.UUID | None = None,
    *,
    future_active: bool = True,
) -> Hold | None:
    """Refuse (409) an active booking ``[start, end)`` the clinician's timetable does not allow.

    With ``hold_id`` the booking takes that hold (same interval, unexpired), which it returns
    so the caller can consume it; any other unexpired hold overlapping it refuses it
    (``slot.held``). A future booking of a clinician with schedules must lie wholly inside one
    session occurrence (``appointment.outside_schedule``) and outside their unavailability
    (``appointment.clinician_unavailable``); ``future_active`` False skips those (history).
    """
    taken: Hold | None = None
    if hold_id is not None:
        taken = next((hold for hold in timetable.holds if hold.id == hold_id), None)
        if taken is None or not taken.unexpired(now):
            raise Conflict("hold.expired")
        if (taken.start, taken.end) != (start, end):
            raise Conflict("hold.mismatch")
    for hold in timetable.holds:
        if hold is not taken and hold.unexpired(now) and hold.start < end and start < hold.end:
            raise Conflict("slot.held")
    if future_active:
        if timetable.sessions and covering_occurrence(timetable.sessions, start, end) is None:
            raise Conflict("appointment.outside_schedule")
        if any(s < end and start < e for s, e in timetable.unavailable):
            raise Conflict("appointment.clinician_unavailable")
    return taken


def check_hold(timetable: Timetable, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """A hold is for a time that could be booked: in the future, in a session, not on leave."""
    if start < now:
        raise Conflict("slot.past")
    if timetable.sessions and covering_occurrence(timetable.sessions, start, end) is None:
        raise Conflict("appointment.outside_schedule")
    if any(s < end and start < e for s, e in timetable.unavailable):
        raise Conflict("appointment.clinician_unavailable")
