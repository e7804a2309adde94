"""Clinicians' recurring sessions (SPEC §10), in Europe/London wall-clock time.

A schedule says "Mondays and Thursdays, 09:00 to 12:30, from 1 March": every London date in its
validity whose weekday it names holds one *occurrence* of the session. Times are wall-clock
times: 09:00 is 09:00 GMT in January and 09:00 BST in July, so a session's instants shift by an
hour across the clock changes while its clock times do not (the bug Cal.com's users met).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import FieldError, RuleViolation
from domain.rules.durations import parse_minutes
from domain.rules.times import check_year

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 4 * 60
DEFAULT_SLOT_MINUTES = 15
MINUTES_PER_DAY = 24 * 60
_WALL_TIME = re.compile(r"(?P<h>[01][0-9]|2[0-3]):(?P<m>[0-5][0-9])")  # ASCII digits only, as every number PANDA reads


def parse_weekdays(raw: Any) -> int:
    """A non-empty list of ``mon`` … ``sun`` (any case, repeats allowed) as a bit mask (bit 0: Monday)."""
    if not isinstance(raw, list | tuple) or not raw:
        raise RuleViolation("weekdays.invalid", allowed=", ".join(WEEKDAYS))
    mask = 0
    for day in raw:
        if not isinstance(day, str) or day.strip().lower() not in WEEKDAYS:
            raise RuleViolation("weekdays.invalid", allowed=", ".join(WEEKDAYS))
        mask |= 1 << WEEKDAYS.index(day.strip().lower())
    return mask


def weekday_names(mask: int) -> list[str]:
    """The weekdays of a bit mask, Monday first."""
    return [name for index, name in enumerate(WEEKDAYS) if mask >> index & 1]


def parse_wall_time(raw: Any) -> int:
    """``HH:MM`` (24-hour) as minutes after midnight."""
    if not isinstance(raw, str) or (match := _WALL_TIME.fullmatch(raw.strip())) is None:
        raise RuleViolation("wall_time.format")
    return int(match["h"]) * 60 + int(match["m"])


def format_wall_time(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_slot_length(raw: Any) -> int:
    """A session's slot length in minutes: the duration syntax, 5 minutes to 4 hours."""
    minutes = parse_minutes(raw)
    if not MIN_SLOT_MINUTES <= minutes <= MAX_SLOT_MINUTES:
        raise RuleViolation("slot.range", min="5m", max="4h")
    return minutes


def parse_date(raw: Any) -> dt.date:
    """An ISO 8601 calendar date (``YYYY-MM-DD``) between the years PANDA accepts."""
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and len(raw.strip()) == 10:
        try:
            value = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise RuleViolation("date.format") from None
    else:
        raise RuleViolation("date.format")
    check_year(value.year, "date.range")
    return value


MAX_REASON_LENGTH = 255


def parse_reason(raw: Any) -> str | None:
    """An unavailability's free-text reason: trimmed, NFC, at most 255 characters, one line (or none)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise RuleViolation("reason.type")
    text = unicodedata.normalize("NFC", raw.strip())
    if len(text) > MAX_REASON_LENGTH:
        raise RuleViolation("reason.too_long", max=MAX_REASON_LENGTH)
    if any(unicodedata.category(c) == "Cc" or c in "\u2028\u2029" for c in text):
        raise RuleViolation("reason.control_character")
    return text or None


@dataclass(frozen=True)
class Session:
    """A clinician's recurring session: the stored shape of a schedule that the rules need."""

    weekdays: int  # bit mask, bit 0 Monday
    start_minute: int  # London wall-clock minutes after midnight
    end_minute: int
    slot_minutes: int
    valid_from: dt.date
    valid_to: dt.date | None  # inclusive; None: open-ended

    def runs_on(self, day: dt.date) -> bool:
        """Whether ``day`` (a London date) holds an occurrence of this session."""
        if day < self.valid_from or (self.valid_to is not None and day > self.valid_to):
            return False
        return bool(self.weekdays >> day.weekday() & 1)


def session_times_problem(start_minute: int, end_minute: int) -> str | None:
    """A session must end after it starts (the code of the ``end`` error, if any)."""
    return "schedule.end_before_start" if start_minute >= end_minute else None


def validity_problem(valid_from: dt.date, valid_to: dt.date | None) -> str | None:
    """A schedule's validity must not end before it begins (the code of the ``valid_to`` error)."""
    return "schedule.validity_order" if valid_to is not None and valid_to < valid_from else None


def unavailability_problem(starts_at: dt.datetime, ends_at: dt.datetime) -> str | None:
    """Unavailability ``[from, to)`` must not be empty (the code of the ``to`` error)."""
    return "range.order" if ends_at <= starts_at else None


def check_session(session: Session) -> list[FieldError]:
    """The rules that span fields: start before end, validity not ending before it begins."""
    problems = [
        ("end", session_times_problem(session.start_minute, session.end_minute)),
        ("valid_to", validity_problem(session.valid_from, session.valid_to)),
    ]
    return [FieldError(field, code) for field, code in problems if code is not None]


def sessions_clash(a: Session, b: Session) -> bool:
    """Two sessions (of one clinician) that share a weekday, overlap in time and overlap in validity."""
    if not a.weekdays & b.weekdays:
        return False
    if not (a.start_minute < b.end_minute and b.start_minute < a.end_minute):
        return False
    a_to = a.valid_to or dt.date.max
    b_to = b.valid_to or dt.date.max
    return a.valid_from <= b_to and b.valid_from <= a_to


def london_instant(day: dt.date, minute: int) -> dt.datetime:
    """The UTC instant of London wall-clock ``minute`` on ``day``.

    In the autumn's repeated hour the first (BST) reading is taken; a time in the spring's missing
    hour is read with the offset before the change (so 01:30 on 28 March 2027 is 01:30 UTC).
    """
    hour, rest = divmod(minute, 60)
    return dt.datetime.combine(day, dt.time(hour, rest), tzinfo=LONDON).astimezone(dt.UTC)


def exists_in_london(day: dt.date, minute: int) -> bool:
    """False for wall-clock times the spring change skips (01:00–01:59 on the last Sunday of March)."""
    instant = london_instant(day, minute)
    local = instant.astimezone(LONDON)
    return (local.date(), local.hour * 60 + local.minute) == (day, minute)


@dataclass(frozen=True)
class Occurrence:
    """One session on one London date, as UTC instants."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime


def occurrence(session: Session, day: dt.date) -> Occurrence:
    """``session`` on ``day`` (assumed to run that day)."""
    return Occurrence(day, london_instant(day, session.start_minute), london_instant(day, session.end_minute))


def london_date(instant: dt.datetime) -> dt.date:
    """The London calendar date of an instant."""
    return instant.astimezone(LONDON).date()


def occurrences(session: Session, first: dt.date, last: dt.date) -> Iterator[Occurrence]:
    """Every occurrence of ``session`` on London dates from ``first`` to ``last`` inclusive."""
    start = max(first, session.valid_from)
    stop = min(last, session.valid_to) if session.valid_to is not None else last
    day = start
    while day <= stop:
        if session.runs_on(day):
            yield occurrence(session, day)
        day += dt.timedelta(days=1)


def occurrences_between(session: Session, start: dt.datetime, end: dt.datetime) -> Iterator[Occurrence]:
    """Occurrences of ``session`` whose interval overlaps ``[start, end)``."""
    # A London day's session can begin at most 24 h before or after that date's UTC midnight.
    first = london_date(start) - dt.timedelta(days=1)
    last = london_date(end) + dt.timedelta(days=1)
    for found in occurrences(session, first, last):
        if found.start < end and start < found.end:
            yield found


def slot_starts(session: Session, found: Occurrence, duration_minutes: int) -> Iterator[dt.datetime]:
    """The candidate starts of one occurrence: the session's start plus whole multiples of its slot
    length in London wall-clock time, skipping clock times that do not exist that day, each with
    ``start + duration`` not after the session's end."""
    length = dt.timedelta(minutes=duration_minutes)
    minutes = range(session.start_minute, session.end_minute, session.slot_minutes)
    if not changes_clocks(found.day):
        # The common day: one offset all day, so the grid is plain arithmetic on the session's start.
        step = dt.timedelta(minutes=session.slot_minutes)
        for index in range(len(minutes)):
            start = found.start + index * step
            if start + length > found.end:
                return
            yield start
        return
    for minute in minutes:
        if not exists_in_london(found.day, minute):
            continue
        start = london_instant(found.day, minute)
        if start >= found.start and start + length <= found.end:
            yield start


def changes_clocks(day: dt.date) -> bool:
    """Whether London's UTC offset changes during ``day`` (the last Sundays of March and October)."""
    return (
        london_instant(day, 0).astimezone(LONDON).utcoffset()
        != london_instant(day, MINUTES_PER_DAY - 1).astimezone(LONDON).utcoffset()
    )


def covering_occurrence(sessions: Iterable[Session], start: dt.datetime, end: dt.datetime) -> Occurrence | None:
    """An occurrence of one of ``sessions`` that holds ``[start, end)`` wholly, if any."""
    for session in sessions:
        for found in occurrences_between(session, start, end):
            if found.start <= start and end <= found.end:
                return found
    return None


def first_clash(candidate: Session, others: Sequence[Session]) -> Session | None:
    """The first of ``others`` that clashes with ``candidate`` (see :func:`sessions_clash`)."""
    return next((other for other in others if sessions_clash(candidate, other)), None)
