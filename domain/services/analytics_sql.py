"""The missed reports answered from the rollup, equal to ``domain.services.analytics_reference``.

Three sources, added together per group and period:

1. ``appointment_day_total`` for the whole London days inside ``[from, to)``: settled outcomes
   (stored ``attended`` and ``missed``), kept by triggers (``domain.services.rollup``); for a
   weekly or monthly report, ``appointment_week_total`` or ``appointment_month_total`` for the
   whole periods among those days (a ranking, which has no period, reads months);
2. ``appointment`` for the settled rows in the partial days at either edge of the range, when a
   bound is not a London midnight (:func:`domain.rules.periods.split_by_london_days`);
3. ``appointment`` for the rows still stored ``active`` whose end has passed: they count as
   missed although the sweep has not stored it yet. Few (the sweep stores them every
   ``SCHEDULER_INTERVAL``), read from the partial index ``ix_appointment_active_end`` alone.

A day's rows all share the day's London week and month, so grouping days by period groups their
appointments as the reference query does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select, union_all

from domain.dialects import day_period, london_period
from domain.models import Appointment, AppointmentDayTotal, AppointmentMonthTotal, AppointmentWeekTotal, table
from domain.rules import Status
from domain.rules.periods import GroupBy, Period, split_by_london_days, split_days_by_period
from domain.services.analytics_query import MissedQuery
from domain.services.analytics_reference import department_ids, named_by_period, named_ranking

APPOINTMENT = table(Appointment)
LEVELS = {
    Period.DAY: (table(AppointmentDayTotal), "day"),
    Period.WEEK: (table(AppointmentWeekTotal), "week"),
    Period.MONTH: (table(AppointmentMonthTotal), "month"),
}
SETTLED = (Status.ATTENDED.value, Status.MISSED.value)


def _base_rows(
    query: MissedQuery,
    dialect: str,
    period: Period | None,
    conditions: list[ColumnElement[bool]],
    *,
    all_missed: bool = False,
) -> Select[Any]:
    """One row per counted appointment matching ``conditions``, with its group and period.

    ``all_missed``: the rows are ended-but-active ones, all missed; not reading ``status`` lets
    PostgreSQL answer from ``ix_appointment_active_end`` alone.
    """
    col = APPOINTMENT.c
    is_missed = col.status != Status.ATTENDED.value
    group = col.clinician_id if query.group_by is GroupBy.CLINICIAN else col.department_id
    columns: list[ColumnElement[Any]] = [group.label("group_id")]
    if period is not None:
        columns.append(london_period(dialect, period, col.starts_at).label("period_start"))
    columns += [
        literal(1).label("appointments"),
        (literal(1) if all_missed else case((is_missed, 1), else_=0)).label("missed"),
        (col.duration_minutes if all_missed else case((is_missed, col.duration_minutes), else_=0)).label(
            "missed_minutes"
        ),
    ]
    if query.department is not None:
        conditions = [*conditions, col.department_id.in_(department_ids(query.department).scalar_subquery())]
    return select(*columns).where(*conditions)


def _in_range(start: dt.datetime | None, end: dt.datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(APPOINTMENT.c.starts_at >= start)
    if end is not None:
        conditions.append(APPOINTMENT.c.starts_at < end)
    return conditions


def _rollup_rows(
    query: MissedQuery, dialect: str, period: Period | None, keys: tuple[Any, Any], level: Period = Period.DAY
) -> Select[Any]:
    """Rows of the rollup ``level`` whose key (a day, or a week's or month's first day) is in ``keys``."""
    table_of_level, key_name = LEVELS[level]
    col = table_of_level.c
    key = col[key_name]
    group = col.clinician_id if query.group_by is GroupBy.CLINICIAN else col.department_id
    columns: list[ColumnElement[Any]] = [group.label("group_id")]
    if period is not None:
        # A week or month row is read for its own period only: its key is the period start.
        columns.append((key if level is not Period.DAY else day_period(dialect, period, key)).label("period_start"))
    columns += [col.appointments, col.missed, col.missed_minutes]
    first, end = keys
    conditions = []
    if first is not None:
        conditions.append(key >= first)
    if end is not None:
        conditions.append(key < end)
    if query.department is not None:
        conditions.append(col.department_id.in_(department_ids(query.department).scalar_subquery()))
    return select(*columns).where(*conditions)


def _whole_days(query: MissedQuery, dialect: str, period: Period | None, days: tuple[Any, Any]) -> list[Select[Any]]:
    """The whole London days ``days``: whole weeks or months from their own level (a ranking, with no
    period, by month), the days around them from the day level."""
    level = Period.MONTH if period is None else period
    if level is Period.DAY:
        return [_rollup_rows(query, dialect, period, days)]
    periods, day_ranges = split_days_by_period(*days, level)
    parts = [_rollup_rows(query, dialect, period, periods, level)] if periods is not None else []
    return parts + [_rollup_rows(query, dialect, period, day_range) for day_range in day_ranges]


def _totals(query: MissedQuery, dialect: str, now: dt.datetime, period: Period | None) -> Select[Any]:
    """Counted appointments, missed and missed minutes per group (and period), from the three sources."""
    split = split_by_london_days(query.start_from, query.start_to)
    parts = [
        _base_rows(
            query,
            dialect,
            period,
            [
                APPOINTMENT.c.status == Status.ACTIVE.value,
                APPOINTMENT.c.ends_at <= now,
                *_in_range(query.start_from, query.start_to),
            ],
            all_missed=True,
        )
    ]
    parts += [
        _base_rows(query, dialect, period, [APPOINTMENT.c.status.in_(SETTLED), *_in_range(start, end)])
        for start, end in split.edges
    ]
    if split.days is not None:
        parts += _whole_days(query, dialect, period, split.days)
    sources = union_all(*parts).subquery("sources")
    keys = [sources.c.group_id] + ([sources.c.period_start] if period is not None else [])
    return (
        select(
            *keys,
            func.sum(sources.c.appointments).label("appointments"),
            func.sum(sources.c.missed).label("missed"),
            func.sum(sources.c.missed_minutes).label("missed_minutes"),
        )
        .group_by(*keys)
        # A group whose settled rows all left keeps a zero row in the rollup: not an item.
        .having(func.sum(sources.c.appointments) > 0)
    )


def missed_statement(query: MissedQuery, dialect: str, now: dt.datetime) -> Select[Any]:
    """Rows ``(group, group_id, period_start, appointments, missed, missed_minutes)`` by period, then name."""
    return named_by_period(_totals(query, dialect, now, query.period).subquery("totals"), query.group_by)


def top_statement(query: MissedQuery, dialect: str, now: dt.datetime, limit: int) -> Select[Any]:
    """The groups that lost the most minutes over the whole range (ties by name)."""
    return named_ranking(_totals(query, dialect, now, None).subquery("totals"), query.group_by, limit)
