"""What differs between PostgreSQL and the embedded SQLite default, in one place.

Two kinds of difference, and only these:

- **SQL spelling**: ``INSERT … ON CONFLICT DO NOTHING`` comes from each dialect's own
  ``insert``; a London calendar period is ``date_trunc`` on ``timezone('Europe/London', …)`` on
  PostgreSQL and a registered Python function on SQLite, which has no time-zone database; text is
  ordered by code point (:func:`by_code_points`), SQLite's only order, whatever the server's locale.
- **How concurrency is made safe**: PostgreSQL runs writers side by side and the database
  decides (exclusion and unique constraints, advisory locks that queue clashing writers, array
  parameters that do a chunk in one round trip); SQLite serialises every write transaction
  (``BEGIN IMMEDIATE``, see ``domain/db.py``), so a check made in Python inside the
  transaction cannot interleave with another writer.

Use cases ask :func:`serialises_writes` or :func:`takes_arrays` rather than comparing names.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import TIMESTAMP, Date, Table, cast, func, literal_column, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.visitors import InternalTraversal

from domain.rules.periods import Period, period_start, truncate_date
from domain.sql import SessionRunner, SqlRunner


class Dialect(StrEnum):
    """The databases PANDA runs on, by SQLAlchemy's dialect name."""

    POSTGRESQL = "postgresql"
    SQLITE = "sqlite"


def serialises_writes(dialect: str) -> bool:
    """SQLite: one write transaction at a time, so check-then-write in Python is exact."""
    return Dialect(dialect) is Dialect.SQLITE


def takes_arrays(dialect: str) -> bool:
    """PostgreSQL: array parameters (``unnest``) let a whole batch go in one statement."""
    return Dialect(dialect) is Dialect.POSTGRESQL


def dialect_insert(table: Table, dialect: str) -> Any:
    """``INSERT`` in ``dialect``'s spelling, whose ``on_conflict_do_update`` both dialects share."""
    if Dialect(dialect) is Dialect.POSTGRESQL:
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_conflicts(table: Table, dialect: str, index_elements: list[Any] | None = None) -> Insert:
    """``INSERT … ON CONFLICT [(index_elements)] DO NOTHING`` in ``dialect``'s spelling."""
    statement: Insert = dialect_insert(table, dialect).on_conflict_do_nothing(index_elements=index_elements)
    return statement


class _CodePointOrder(ColumnElement[Any]):
    """A text column compared by code point: ``COLLATE "C"`` on PostgreSQL, as is on SQLite (BINARY)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(_CodePointOrder)
def _as_is(element: _CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_CodePointOrder, "postgresql")
def _c_collation(element: _CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.column, **kw)} COLLATE "C"'


def by_code_points(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` to order by as both databases can: by code point. A PostgreSQL server made with a
    locale (en_US, say) would otherwise sort names unlike SQLite (``é`` with ``e``, not after ``z``)."""
    return _CodePointOrder(column)


SQLITE_PERIOD_FUNCTION = "panda_london_period"
SQLITE_DAY_PERIOD_FUNCTION = "panda_day_period"
# For one report's transaction only. JIT compilation costs ~30 ms and saves nothing on a one-pass
# aggregate; a cached generic plan (after five runs of a prepared statement) was measured 60 %
# slower than a plan made for the actual range and instant (see bench/analytics.py).
POSTGRES_REPORT_SETTINGS = text(
    "SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)"
)


def london_period(dialect: str, period: Period, start: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL for the London calendar period (day, week from Monday, month) of the instant ``start``."""
    if Dialect(dialect) is Dialect.POSTGRESQL:
        # Constants are inlined (``period`` is one of three enum values, so this is safe):
        # with bound parameters PostgreSQL would not see SELECT and GROUP BY as the same expression.
        london = func.timezone(literal_column("'Europe/London'"), start)
        return cast(func.date_trunc(literal_column(f"'{period.value}'"), london), Date)
    sqlite_period: ColumnElement[Any] = getattr(func, SQLITE_PERIOD_FUNCTION)(start, period.value)
    return sqlite_period


def day_period(dialect: str, period: Period, day: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQL for the first day of the period (day, week from Monday, month) containing the date ``day``."""
    if period is Period.DAY:
        return day
    if Dialect(dialect) is Dialect.POSTGRESQL:
        # A date read as a plain timestamp: no time zone enters the truncation.
        return cast(func.date_trunc(literal_column(f"'{period.value}'"), cast(day, TIMESTAMP)), Date)
    sqlite_period: ColumnElement[Any] = getattr(func, SQLITE_DAY_PERIOD_FUNCTION)(day, period.value)
    return sqlite_period


def _sqlite_period(stored: str | None, period: str) -> str | None:
    """The SQLite side of :func:`london_period`: stored UTC text in, London ISO date out."""
    if stored is None:
        return None
    return period_start(dt.datetime.fromisoformat(stored), Period(period)).isoformat()


def _sqlite_day_period(stored: str | None, period: str) -> str | None:
    """The SQLite side of :func:`day_period`: an ISO date in, its period's first ISO date out."""
    if stored is None:
        return None
    return truncate_date(dt.date.fromisoformat(stored), Period(period)).isoformat()


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Register the London-period functions on a new SQLite connection (sync DB-API or aiosqlite adapter).

    Every PANDA connection does this on connect (``domain.db``): the analytics rollup's triggers
    call :data:`SQLITE_PERIOD_FUNCTION`, so a connection without it cannot write appointments.
    """
    for name, function in _sqlite_functions().items():
        dbapi_connection.create_function(name, 2, function, deterministic=True)


def _sqlite_functions() -> dict[str, Any]:
    return {SQLITE_PERIOD_FUNCTION: _sqlite_period, SQLITE_DAY_PERIOD_FUNCTION: _sqlite_day_period}


async def prepare_for_reports(sql: SqlRunner) -> None:
    """Make the runner's connection ready for :func:`london_period` reports (inside a transaction)."""
    if Dialect(sql.dialect) is Dialect.POSTGRESQL:
        await sql.execute(POSTGRES_REPORT_SETTINGS)
        return
    assert isinstance(sql, SessionRunner), "SQLite runs through a SQLAlchemy session"
    connection = await sql.session.connection()
    raw = await connection.get_raw_connection()
    # Already there on connections from ``domain.db``; registered again for any other engine.
    for name, function in _sqlite_functions().items():
        await raw.driver_connection.create_function(name, 2, function, deterministic=True)  # type: ignore[union-attr]
