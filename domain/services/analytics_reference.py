"""The reference definition of the missed reports: one grouped query over ``appointment``.

What is counted (SPEC §7): appointments that have ended and were not cancelled, that is
attended plus *effectively* missed ones (an ``active`` row whose end has passed counts as missed
before the sweep stores it). An attended appointment is counted even while it is still running:
attended is its final outcome. Erased patients' appointments keep their clinician and
department, so they stay counted. Periods are Europe/London calendar periods of the start.

The service answers from the rollup (``domain.services.analytics_sql``); these statements are
what its answers must equal, and the property test holds them equal on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, or_, select

from domain.dialects import by_code_points, london_period
from domain.models import Appointment, Clinician, Department, table
from domain.rules import Status, entity_key
from domain.rules.periods import GroupBy
from domain.rules.status import effective_status_is_sql
from domain.services.analytics_query import MissedQuery

APPOINTMENT = table(Appointment)
GROUP_TABLES = {GroupBy.CLINICIAN: table(Clinician), GroupBy.DEPARTMENT: table(Department)}
GROUP_KEYS = {GroupBy.CLINICIAN: APPOINTMENT.c.clinician_id, GroupBy.DEPARTMENT: APPOINTMENT.c.department_id}


def counted_condition(now: dt.datetime) -> ColumnElement[bool]:
    """Ended and not cancelled: attended, stored missed, or active with its end passed."""
    col = APPOINTMENT.c
    return or_(
        effective_status_is_sql(Status.ATTENDED, col.status, col.ends_at, now),
        effective_status_is_sql(Status.MISSED, col.status, col.ends_at, now),
    )


def department_ids(name: str) -> Select[Any]:
    """The id of the department called ``name`` (matched as every department name is)."""
    department = table(Department)
    return select(department.c.id).where(department.c.name_key == entity_key(name))


def _filters(query: MissedQuery, now: dt.datetime) -> list[ColumnElement[bool]]:
    conditions = [counted_condition(now)]
    if query.start_from is not None:
        conditions.append(APPOINTMENT.c.starts_at >= query.start_from)
    if query.start_to is not None:
        conditions.append(APPOINTMENT.c.starts_at < query.start_to)
    if query.department is not None:
        conditions.append(APPOINTMENT.c.department_id.in_(department_ids(query.department).scalar_subquery()))
    return conditions


def _measures() -> tuple[ColumnElement[Any], ...]:
    # Rows are already restricted to counted ones, so everything not attended is missed.
    is_missed = APPOINTMENT.c.status != Status.ATTENDED
    return (
        func.count().label("appointments"),
        func.sum(case((is_missed, 1), else_=0)).label("missed"),
        func.sum(case((is_missed, APPOINTMENT.c.duration_minutes), else_=0)).label("missed_minutes"),
    )


def reference_missed_statement(query: MissedQuery, dialect: str, now: dt.datetime) -> Select[Any]:
    """Rows ``(group, group_id, period_start, appointments, missed, missed_minutes)`` by period, then name."""
    group_key = GROUP_KEYS[query.group_by].label("group_id")
    period = london_period(dialect, query.period, APPOINTMENT.c.starts_at).label("period_start")
    totals = (
        select(group_key, period, *_measures())
        .where(*_filters(query, now))
        .group_by(group_key, period)
        .subquery("totals")
    )
    return named_by_period(totals, query.group_by)


def reference_top_statement(query: MissedQuery, now: dt.datetime, limit: int) -> Select[Any]:
    """The groups that lost the most minutes over the whole range (ties by name)."""
    group_key = GROUP_KEYS[query.group_by].label("group_id")
    totals = select(group_key, *_measures()).where(*_filters(query, now)).group_by(group_key).subquery("totals")
    return named_ranking(totals, query.group_by, limit)


def named_by_period(totals: Subquery, group_by: GroupBy) -> Select[Any]:
    """``totals`` (per ``group_id`` and ``period_start``) with the groups' names, by period, then name."""
    names = GROUP_TABLES[group_by]
    return (
        select(names.c.name.label("group"), totals)
        .join_from(totals, names, names.c.id == totals.c.group_id)
        .order_by(totals.c.period_start, by_code_points(names.c.name_key))
    )


def named_ranking(totals: Subquery, group_by: GroupBy, limit: int) -> Select[Any]:
    """The ``limit`` groups of ``totals`` that lost the most minutes, named (ties by name)."""
    names = GROUP_TABLES[group_by]
    return (
        select(names.c.name.label("group"), totals)
        .join_from(totals, names, names.c.id == totals.c.group_id)
        .where(totals.c.missed > 0)
        .order_by(totals.c.missed_minutes.desc(), by_code_points(names.c.name_key))
        .limit(limit)
    )
