"""A validated analytics request (``/analytics/missed``, ``/insight``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.errors import FieldChecker
from domain.rules import check_search_text
from domain.rules.periods import GroupBy, Period, parse_group_by, parse_period, parse_range_bound


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
    checker.check_range_order(query.start_from, query.start_to)
    checker.raise_if_any()
    return query


def _department_filter(raw: str) -> str:
    return check_search_text(raw, rule="department")
