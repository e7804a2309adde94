"""Missed-appointment impact: one grouped query per report, computed by the database.

What is counted (SPEC §7): ``appointments`` are those that have ended and were not cancelled,
that is attended plus *effectively* missed ones (an ``active`` row whose end has passed counts
as missed before the sweep stores it). An attended appointment is counted even while it is
still running: attended is its final outcome. Erased patients' appointments keep their
clinician and department, so they stay counted. Periods are Europe/London calendar periods
of the start (see :mod:`domain.rules.periods`).

PostgreSQL computes the period with ``date_trunc(…, timezone('Europe/London', starts_at))``.
SQLite has no time-zone database, so the same rule runs as a Python function registered on
the connection (:func:`domain.rules.periods.period_start`, which uses ``zoneinfo``): nothing
extra is stored and both databases group by the same London dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Select, case, func, or_, select

from domain.clock import utcnow
from domain.dialects import london_period, prepare_for_reports
from domain.errors import FieldChecker, FieldError, InvalidInput
from domain.models import Appointment, Clinician, Department, table
from domain.rules import Status, check_search_text, entity_key
from domain.rules.periods import GroupBy, Period, parse_group_by, parse_period, parse_range_bound
from domain.rules.status import effective_status_is_sql
from domain.sql import SqlRunner

APPOINTMENT = table(Appointment)
GROUP_TABLES = {GroupBy.CLINICIAN: table(Clinician), GroupBy.DEPARTMENT: table(Department)}
GROUP_KEYS = {GroupBy.CLINICIAN: APPOINTMENT.c.clinician_id, GroupBy.DEPARTMENT: APPOINTMENT.c.department_id}
# A report answers at most this many items (groups × periods); a request that would get more is
# refused (400 ``range.too_long``) rather than answered with an unbounded body: narrow the range or
# choose a longer period.
MAX_REPORT_ITEMS = 10_000


class MissedItem(msgspec.Struct):
    """Missed-appointment impact of one group in one period."""

    group: str
    period_start: str
    appointments: int
    missed: int
    missed_minutes: int
    missed_rate: float


class MissedReport(msgspec.Struct):
    """``GET /analytics/missed``: one item per group and period that has appointments."""

    items: list[MissedItem]


class Overview(msgspec.Struct):
    """What the insight page charts: minutes per month by department, and the worst-hit clinicians."""

    monthly_by_department: list[MissedItem]
    top_clinicians: list[MissedItem]
    departments: list[str]


@dataclass(frozen=True)
class MissedQuery:
    """A validated analytics request; ``start_from`` is inclusive and ``start_to`` exclusive."""

    group_by: GroupBy = GroupBy.DEPARTMENT
    period: Period = Period.MONTH
    start_from: dt.datetime | None = None
    start_to: dt.datetime | None = None
    department: str | None = None


def missed_query(
    group_by: str | None,
    period: str | None,
    start_from: str | None,
    start_to: str | None,
    department: str | None = None,
) -> MissedQuery:
    """Validate every parameter at once; each bad one is named in a single 400."""
    checker = FieldChecker()
    query = MissedQuery(
        group_by=checker.check("group_by", group_by, parse_group_by, GroupBy.DEPARTMENT) or GroupBy.DEPARTMENT,
        period=checker.check("period", period, parse_period, Period.MONTH) or Period.MONTH,
        start_from=checker.check("from", start_from, lambda v: parse_range_bound(v, rule="from")),
        start_to=checker.check("to", start_to, lambda v: parse_range_bound(v, rule="to")),
        department=checker.check("department", (department or "").strip() or None, _department_filter),
    )
    if query.start_from and query.start_to and query.start_to < query.start_from:
        checker.errors.append(FieldError("to", "range.order"))
    checker.raise_if_any()
    return query


def _department_filter(raw: str) -> str:
    return check_search_text(raw, rule="department")


def counted_condition(now: dt.datetime) -> ColumnElement[bool]:
    """Ended and not cancelled: attended, stored missed, or active with its end passed."""
    col = APPOINTMENT.c
    return or_(
        effective_status_is_sql(Status.ATTENDED, col.status, col.ends_at, now),
        effective_status_is_sql(Status.MISSED, col.status, col.ends_at, now),
    )


def _filters(query: MissedQuery, now: dt.datetime) -> list[ColumnElement[bool]]:
    conditions = [counted_condition(now)]
    if query.start_from is not None:
        conditions.append(APPOINTMENT.c.starts_at >= query.start_from)
    if query.start_to is not None:
        conditions.append(APPOINTMENT.c.starts_at < query.start_to)
    if query.department is not None:
        department = table(Department)
        wanted = select(department.c.id).where(department.c.name_key == entity_key(query.department))
        conditions.append(APPOINTMENT.c.department_id.in_(wanted.scalar_subquery()))
    return conditions


def _measures() -> tuple[ColumnElement[Any], ...]:
    # Rows are already restricted to counted ones, so everything not attended is missed.
    is_missed = APPOINTMENT.c.status != Status.ATTENDED
    return (
        func.count().label("appointments"),
        func.sum(case((is_missed, 1), else_=0)).label("missed"),
        func.sum(case((is_missed, APPOINTMENT.c.duration_minutes), else_=0)).label("missed_minutes"),
    )


def missed_statement(query: MissedQuery, dialect: str, now: dt.datetime) -> Select[Any]:
    """The one grouped query: aggregate by group id and period, then name the groups."""
    group_key = GROUP_KEYS[query.group_by].label("group_id")
    period = london_period(dialect, query.period, APPOINTMENT.c.starts_at).label("period_start")
    totals = (
        select(group_key, period, *_measures())
        .where(*_filters(query, now))
        .group_by(group_key, period)
        .subquery("totals")
    )
    names = GROUP_TABLES[query.group_by]
    return (
        select(names.c.name.label("group"), totals)
        .join_from(totals, names, names.c.id == totals.c.group_id)
        .order_by(totals.c.period_start, names.c.name_key)
    )


def top_statement(query: MissedQuery, now: dt.datetime, limit: int) -> Select[Any]:
    """The groups that lost the most minutes over the whole range (ties by name)."""
    group_key = GROUP_KEYS[query.group_by].label("group_id")
    totals = select(group_key, *_measures()).where(*_filters(query, now)).group_by(group_key).subquery("totals")
    names = GROUP_TABLES[query.group_by]
    return (
        select(names.c.name.label("group"), totals)
        .join_from(totals, names, names.c.id == totals.c.group_id)
        .where(totals.c.missed > 0)
        .order_by(totals.c.missed_minutes.desc(), names.c.name_key)
        .limit(limit)
    )


def _item(group: str, period: str, appointments: int, missed: int, minutes: int) -> MissedItem:
    return MissedItem(
        group=group,
        period_start=period,
        appointments=int(appointments),
        missed=int(missed),
        missed_minutes=int(minutes),
        missed_rate=int(missed) / int(appointments),
    )


def _items(rows: Any) -> list[MissedItem]:
    """Items from ``(group, group_id, period_start, appointments, missed, missed_minutes)`` rows."""
    # Reports can hold tens of thousands of rows over a few thousand distinct periods.
    iso: dict[Any, str] = {}
    items = []
    for row in rows:
        group, _group_id, period, appointments, missed, minutes = row.values()
        text_period = iso.get(period)
        if text_period is None:
            # PostgreSQL returns a date; SQLite the text its registered function produced.
            text_period = iso[period] = period.isoformat() if isinstance(period, dt.date) else str(period)
        items.append(_item(group, text_period, appointments, missed, minutes))
    return items


class AnalyticsService:
    """Reports over appointments; read-only."""

    def __init__(self, sql: SqlRunner) -> None:
        self.sql = sql

    async def missed(self, query: MissedQuery, capped: bool = True) -> MissedReport:
        """Missed appointments and minutes per group and London period; 400 ``range.too_long`` when
        ``capped`` and the report would hold more than ``MAX_REPORT_ITEMS`` items."""
        max_items = MAX_REPORT_ITEMS if capped else None
        statement = missed_statement(query, self.sql.dialect, utcnow())
        if max_items is not None:
            statement = statement.limit(max_items + 1)  # one more shows the report would be too long
        # One transaction: the report's settings hold for it alone.
        async with self.sql.transaction():
            await prepare_for_reports(self.sql)
            items = _items(await self.sql.fetch_all(statement))
        if max_items is not None and len(items) > max_items:
            raise InvalidInput([FieldError("to", "range.too_long", {"max": max_items})])
        return MissedReport(items=items)

    async def top(self, query: MissedQuery, limit: int = 10) -> list[MissedItem]:
        """The ``limit`` groups with the most missed minutes over the range; ``period_start`` is empty."""
        rows = await self.sql.fetch_all(top_statement(query, utcnow(), limit))
        return [_item(r["group"], "", r["appointments"], r["missed"], r["missed_minutes"]) for r in rows]

    async def overview(self, query: MissedQuery, top: int = 10) -> Overview:
        """Monthly missed impact by department, the ``top`` clinicians, and every department's name."""
        # Departments × months: small, and the page charts all of it.
        monthly = await self.missed(replace(query, group_by=GroupBy.DEPARTMENT, period=Period.MONTH), capped=False)
        clinicians = await self.top(replace(query, group_by=GroupBy.CLINICIAN), top)
        department = table(Department)
        names = await self.sql.fetch_all(select(department.c.name).order_by(department.c.name_key))
        return Overview(
            monthly_by_department=monthly.items, top_clinicians=clinicians, departments=[r["name"] for r in names]
        )
