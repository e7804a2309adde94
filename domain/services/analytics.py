"""Missed-appointment impact (SPEC §7): ``/analytics/missed`` and the ``/insight`` overview.

What is counted is defined once, by the reference query over ``appointment``
(:mod:`domain.services.analytics_reference`). Reports are answered from the analytics rollup
(:mod:`domain.services.analytics_sql`): settled outcomes per London day × clinician ×
department kept by triggers, plus the few rows the rollup cannot hold (still-``active`` ended
appointments, and settled ones in a partial day at a range edge). A property test holds the two
equal on both databases.

PostgreSQL computes London periods with ``date_trunc(…, timezone('Europe/London', …))``.
SQLite has no time-zone database, so the same rule runs as a Python function registered on
each connection (:func:`domain.rules.periods.period_start`, which uses ``zoneinfo``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import msgspec
from sqlalchemy import select

from domain.clock import utcnow
from domain.dialects import by_code_points, prepare_for_reports
from domain.errors import FieldError, InvalidInput
from domain.models import Department, table
from domain.rules.periods import GroupBy, Period
from domain.services.analytics_query import MissedQuery, missed_query
from domain.services.analytics_sql import missed_statement, top_statement
from domain.sql import SqlRunner

__all__ = [
    "MAX_REPORT_ITEMS",
    "AnalyticsService",
    "MissedItem",
    "MissedQuery",
    "MissedReport",
    "Overview",
    "missed_query",
]

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


def _item(group: str, period: str, appointments: int, missed: int, minutes: int) -> MissedItem:
    return MissedItem(
        group=group,
        period_start=period,
        appointments=int(appointments),
        missed=int(missed),
        missed_minutes=int(minutes),
        missed_rate=int(missed) / int(appointments),
    )


def items_from_rows(rows: Any) -> list[MissedItem]:
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


def top_items(rows: Any) -> list[MissedItem]:
    """Items from ``(group, group_id, appointments, missed, missed_minutes)`` rows; ``period_start`` is empty."""
    return [_item(r["group"], "", r["appointments"], r["missed"], r["missed_minutes"]) for r in rows]


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
            items = items_from_rows(await self.sql.fetch_all(statement))
        if max_items is not None and len(items) > max_items:
            raise InvalidInput([FieldError("to", "range.too_long", {"max": max_items})])
        return MissedReport(items=items)

    async def top(self, query: MissedQuery, limit: int = 10) -> list[MissedItem]:
        """The ``limit`` groups with the most missed minutes over the range; ``period_start`` is empty."""
        rows = await self.sql.fetch_all(top_statement(query, self.sql.dialect, utcnow(), limit))
        return top_items(rows)

    async def overview(self, query: MissedQuery, top: int = 10) -> Overview:
        """Monthly missed impact by department, the ``top`` clinicians, and every department's name."""
        # Departments × months: small, and the page charts all of it.
        monthly = await self.missed(replace(query, group_by=GroupBy.DEPARTMENT, period=Period.MONTH), capped=False)
        clinicians = await self.top(replace(query, group_by=GroupBy.CLINICIAN), top)
        department = table(Department)
        names = await self.sql.fetch_all(select(department.c.name).order_by(by_code_points(department.c.name_key)))
        return Overview(
            monthly_by_department=monthly.items, top_clinicians=clinicians, departments=[r["name"] for r in names]
        )
