"""Reporting periods: Europe/London calendar days, weeks (from Monday) and months.

An appointment belongs to the period of its start, read on the London wall clock, so a
period boundary follows the clocks across daylight-saving changes (a London month starts
at 00:00 GMT in winter and at 23:00 UTC the day before in summer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import RuleViolation
from domain.rules.choices import parse_choice
from domain.rules.dates import LONDON
from domain.rules.times import check_year, parse_aware_datetime

# Spelled out (not f"{rule}...") so each code can be found by reading the source.
_BOUND_FORMAT_CODES = {"from": "from.date_or_time", "to": "to.date_or_time"}
_BOUND_RANGE_CODES = {"from": "from.range", "to": "to.range"}


class Period(StrEnum):
    """The calendar unit analytics are counted in."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class GroupBy(StrEnum):
    """Whose missed time analytics are counted for."""

    CLINICIAN = "clinician"
    DEPARTMENT = "department"


def parse_period(raw: Any) -> Period:
    """``day``, ``week`` or ``month`` exactly."""
    return parse_choice(Period, raw, "period.invalid")


def parse_group_by(raw: Any) -> GroupBy:
    """``clinician`` or ``department`` exactly."""
    return parse_choice(GroupBy, raw, "group_by.invalid")


def london_date(instant: dt.datetime) -> dt.date:
    """The Europe/London calendar date of an instant (a naive instant is taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(LONDON).date()


def truncate_date(day: dt.date, period: Period) -> dt.date:
    """The first day of the period that contains ``day``."""
    if period is Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def period_start(instant: dt.datetime, period: Period) -> dt.date:
    """The first London day of the period in which ``instant`` falls."""
    return truncate_date(london_date(instant), period)


def london_midnight(day: dt.date) -> dt.datetime:
    """The instant (UTC) at which ``day`` begins in Europe/London."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)


def parse_range_bound(raw: Any, *, rule: str) -> dt.datetime:
    """A range bound: an ISO 8601 timestamp with its offset, or a date meaning London midnight.

    A bare date is accepted because reports are read in London calendar days; a timestamp
    without an offset stays ambiguous and is refused, as everywhere else in PANDA. Either form
    must fall in the years 1900 to 2999, as every time does (``from.range``, ``to.range``).
    """
    if isinstance(raw, str) and "T" not in raw.upper():
        try:
            day = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise RuleViolation(_BOUND_FORMAT_CODES[rule]) from None
        check_year(day.year, _BOUND_RANGE_CODES[rule])  # the years every timestamp keeps to
        return london_midnight(day)
    try:
        return parse_aware_datetime(raw, rule=rule)
    except RuleViolation as exc:
        if exc.code.endswith((".offset_required", ".range")):
            raise
        raise RuleViolation(_BOUND_FORMAT_CODES[rule]) from None


# An instant range [start, end) of the base table; None on either side means unbounded.
InstantRange = tuple[dt.datetime | None, dt.datetime | None]


@dataclass(frozen=True)
class DaySplit:
    """A range of starts cut into whole London days and the partial days at its edges.

    ``days`` is ``(first, end)`` (``end`` exclusive; ``None`` unbounded) or ``None`` when no whole
    day fits; ``edges`` are the instant ranges left over, disjoint from those days and each other.
    """

    days: tuple[dt.date | None, dt.date | None] | None
    edges: tuple[InstantRange, ...]


def split_by_london_days(start: dt.datetime | None, end: dt.datetime | None) -> DaySplit:
    """Cut ``[start, end)`` into the whole London days inside it and the instants left at either edge.

    An instant ``t`` is in ``[start, end)`` exactly when ``london_date(t)`` is one of the days or
    ``t`` lies in one of the edges (the analytics rollup answers the days, the base table the edges).
    """
    first: dt.date | None = None
    if start is not None:
        first = london_date(start)
        if london_midnight(first) < start:
            if first == dt.date.max:
                return DaySplit(days=None, edges=((start, end),))
            first += dt.timedelta(days=1)
    last = london_date(end) if end is not None else None  # the day ``end`` falls in, excluded
    if first is not None and last is not None and first >= last:
        return DaySplit(days=None, edges=((start, end),))
    edges: list[InstantRange] = []
    if start is not None and first is not None and start < london_midnight(first):
        edges.append((start, london_midnight(first)))
    if end is not None and last is not None and london_midnight(last) < end:
        edges.append((london_midnight(last), end))
    return DaySplit(days=(first, last), edges=tuple(edges))


DayRange = tuple[dt.date | None, dt.date | None]


def next_period_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the period after the one containing ``day`` (OverflowError past year 9999)."""
    if period is Period.MONTH:
        return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return truncate_date(day, period) + dt.timedelta(days=7 if period is Period.WEEK else 1)


def split_days_by_period(
    first: dt.date | None, end: dt.date | None, period: Period
) -> tuple[DayRange | None, tuple[DayRange, ...]]:
    """Cut the days ``[first, end)`` into whole ``period``s and the days left at either edge.

    Returns ``(periods, days)``: ``periods`` is ``(first, end)`` by the periods' first days (end
    exclusive; ``None`` unbounded) or ``None`` when no whole period fits; ``days`` are day ranges.
    """
    period_first = first
    if first is not None and truncate_date(first, period) != first:
        try:
            period_first = next_period_start(first, period)
        except OverflowError:
            return None, ((first, end),)
    period_end = truncate_date(end, period) if end is not None else None
    if period_first is not None and period_end is not None and period_first >= period_end:
        return None, ((first, end),)
    days: list[DayRange] = []
    if first is not None and period_first is not None and first < period_first:
        days.append((first, period_first))
    if end is not None and period_end is not None and period_end < end:
        days.append((period_end, end))
    return (period_first, period_end), tuple(days)
