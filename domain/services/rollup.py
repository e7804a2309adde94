"""The analytics rollup's upkeep: database triggers, and a rebuild from ``appointment``.

``appointment_day_total`` holds the *settled* outcomes only (stored ``attended`` and stored
``missed``): how many, how many missed and the missed minutes per Europe/London day of the start
× clinician × department. Reports add the still-``active``-but-ended rows from ``appointment``
themselves (they depend on "now"), so booking an active appointment never touches the rollup.

Why triggers: every path that writes appointments (the API's PATCH, DELETE and reschedule, the
sweep, bulk import, patient erasure, a migration, a console session) moves the rollup in the
same transaction, including paths added later; a report is never stale.

- PostgreSQL: statement-level ``AFTER`` triggers with transition tables, so a COPY or a bulk
  INSERT of a million rows runs one grouped upsert, not a million. Upserts are made in key order,
  so two concurrent writers lock rollup rows in the same order (no deadlock between them).
  ``TRUNCATE appointment`` truncates the rollup too.
- SQLite: row triggers guarded by ``WHEN`` (an ``active`` row does no rollup work at all); the
  London day comes from the Python function every PANDA connection registers on connect
  (:func:`domain.dialects.register_sqlite_functions`). SQLite serialises writers, so there is
  no lock order to keep.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Executable, case, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement

from domain.dialects import SQLITE_PERIOD_FUNCTION, Dialect, london_period
from domain.models import Appointment, AppointmentDayTotal, AppointmentMonthTotal, AppointmentWeekTotal, table
from domain.rules import Status
from domain.rules.periods import Period

APPOINTMENT = table(Appointment)
ROLLUP = table(AppointmentDayTotal)
WEEKS = table(AppointmentWeekTotal)
MONTHS = table(AppointmentMonthTotal)
SETTLED = (Status.ATTENDED.value, Status.MISSED.value)

_PG_DAY = "(timezone('Europe/London', starts_at))::date"
# The week and month levels, by their key column; their keys are read off the day's.
_PG_COARSER = (("appointment_week_total", "week"), ("appointment_month_total", "month"))
_PG_UPSERT = """INSERT INTO {table} AS t
            ({key}, clinician_id, department_id, appointments, missed, missed_minutes)
        SELECT {key_of_day}, clinician_id, department_id, sum(appointments), sum(missed), sum(missed_minutes)
        FROM changes
        GROUP BY 1, 2, 3
        HAVING sum(appointments) <> 0 OR sum(missed) <> 0 OR sum(missed_minutes) <> 0
        ORDER BY 1, 2, 3
        ON CONFLICT ({key}, clinician_id, department_id) DO UPDATE SET
            appointments = t.appointments + excluded.appointments,
            missed = t.missed + excluded.missed,
            missed_minutes = t.missed_minutes + excluded.missed_minutes"""


def _pg_settled(rows: str, sign: str) -> str:
    # Only constants of this module are spliced in (transition-table names and a sign).
    return f"""SELECT {_PG_DAY} AS day, clinician_id, department_id,
            {sign}count(*) AS appointments,
            {sign}count(*) FILTER (WHERE status = 'missed') AS missed,
            {sign}coalesce(sum(duration_minutes) FILTER (WHERE status = 'missed'), 0) AS missed_minutes
        FROM {rows} WHERE status IN ('attended', 'missed')
        GROUP BY 1, 2, 3"""  # noqa: S608


def _pg_function(name: str, signs: dict[str, str]) -> str:
    """A trigger function folding the settled rows of the named transition tables into every level.

    One statement: the transition tables are read once, into day changes; the week and month
    changes are grouped from those (one row per clinician-day, not per appointment).
    """
    changes = " UNION ALL ".join(_pg_settled(rows, sign) for rows, sign in signs.items())
    coarser = ",\n    ".join(
        f"{key}s AS ("
        + _PG_UPSERT.format(table=table_name, key=key, key_of_day=f"(date_trunc('{key}', day::timestamp))::date")
        + ")"
        for table_name, key in _PG_COARSER
    )
    # One look first: a statement that wrote no settled row (a booking) runs no upsert at all.
    settled = " OR ".join(f"EXISTS (SELECT FROM {rows} WHERE status IN ('attended', 'missed'))" for rows in signs)
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {settled} THEN
    WITH changes AS (
        SELECT day, clinician_id, department_id,
            sum(appointments) AS appointments, sum(missed) AS missed, sum(missed_minutes) AS missed_minutes
        FROM ({changes}) AS both_sides
        GROUP BY 1, 2, 3
    ),
    {coarser}
    {_PG_UPSERT.format(table="appointment_day_total", key="day", key_of_day="day")};
    END IF;
    RETURN NULL;
END
$$"""  # noqa: S608  (module constants only)


POSTGRES_INSTALL = (
    _pg_function("appointment_day_total_on_insert", {"new_rows": ""}),
    _pg_function("appointment_day_total_on_delete", {"old_rows": "-"}),
    _pg_function("appointment_day_total_on_update", {"new_rows": "", "old_rows": "-"}),
    """CREATE FUNCTION appointment_day_total_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: a TRUNCATE naming both tables has the rollup open already.
    DELETE FROM appointment_day_total;
    DELETE FROM appointment_week_total;
    DELETE FROM appointment_month_total;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER appointment_day_total_insert AFTER INSERT ON appointment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION appointment_day_total_on_insert()""",
    """CREATE TRIGGER appointment_day_total_delete AFTER DELETE ON appointment
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION appointment_day_total_on_delete()""",
    """CREATE TRIGGER appointment_day_total_update AFTER UPDATE ON appointment
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION appointment_day_total_on_update()""",
    """CREATE TRIGGER appointment_day_total_truncate AFTER TRUNCATE ON appointment
    FOR EACH STATEMENT EXECUTE FUNCTION appointment_day_total_on_truncate()""",
)
POSTGRES_UNINSTALL = (
    *(
        f"DROP TRIGGER IF EXISTS appointment_day_total_{op} ON appointment"
        for op in ("insert", "delete", "update", "truncate")
    ),
    *(f"DROP FUNCTION IF EXISTS appointment_day_total_on_{op}()" for op in ("insert", "delete", "update", "truncate")),
)


def _sqlite_apply(row: str, sign: str) -> str:
    """Add (``+``) or take away (``-``) one settled row's outcome, at each level."""
    return "\n".join(
        f"""INSERT INTO {table_name}
        ({key}, clinician_id, department_id, appointments, missed, missed_minutes)
    VALUES (
        {SQLITE_PERIOD_FUNCTION}({row}.starts_at, '{key}'), {row}.clinician_id, {row}.department_id,
        {sign}1,
        {sign}({row}.status = 'missed'),
        {sign}(CASE WHEN {row}.status = 'missed' THEN {row}.duration_minutes ELSE 0 END))
    ON CONFLICT ({key}, clinician_id, department_id) DO UPDATE SET
        appointments = appointments + excluded.appointments,
        missed = missed + excluded.missed,
        missed_minutes = missed_minutes + excluded.missed_minutes;"""  # noqa: S608
        for table_name, key in (
            ("appointment_day_total", "day"),
            ("appointment_week_total", "week"),
            ("appointment_month_total", "month"),
        )
    )


_SQLITE_SETTLED = "status IN ('attended', 'missed')"
# Only the columns the rollup reads: a change of ``ends_at`` alone, ``patient_id`` (erasure) or
# ``updated_at`` fires nothing.
_SQLITE_UPDATE_OF = "UPDATE OF status, starts_at, duration_minutes, clinician_id, department_id"
SQLITE_INSTALL = (
    f"""CREATE TRIGGER appointment_day_total_insert AFTER INSERT ON appointment
    WHEN NEW.{_SQLITE_SETTLED} BEGIN {_sqlite_apply("NEW", "+")} END""",
    f"""CREATE TRIGGER appointment_day_total_delete AFTER DELETE ON appointment
    WHEN OLD.{_SQLITE_SETTLED} BEGIN {_sqlite_apply("OLD", "-")} END""",
    f"""CREATE TRIGGER appointment_day_total_update_old AFTER {_SQLITE_UPDATE_OF} ON appointment
    WHEN OLD.{_SQLITE_SETTLED} BEGIN {_sqlite_apply("OLD", "-")} END""",
    f"""CREATE TRIGGER appointment_day_total_update_new AFTER {_SQLITE_UPDATE_OF} ON appointment
    WHEN NEW.{_SQLITE_SETTLED} BEGIN {_sqlite_apply("NEW", "+")} END""",
)
SQLITE_UNINSTALL = tuple(
    f"DROP TRIGGER IF EXISTS appointment_day_total_{name}" for name in ("insert", "delete", "update_old", "update_new")
)


def install_statements(dialect: str) -> tuple[str, ...]:
    """DDL creating the rollup's triggers on ``dialect`` (used by migration 0011)."""
    return POSTGRES_INSTALL if Dialect(dialect) is Dialect.POSTGRESQL else SQLITE_INSTALL


def uninstall_statements(dialect: str) -> tuple[str, ...]:
    """DDL dropping what :func:`install_statements` created."""
    return POSTGRES_UNINSTALL if Dialect(dialect) is Dialect.POSTGRESQL else SQLITE_UNINSTALL


def rebuild_statements(dialect: str) -> list[Executable]:
    """Empty the rollup, then fill each level from ``appointment`` in one grouped INSERT … SELECT."""
    is_missed = APPOINTMENT.c.status == Status.MISSED.value
    statements: list[Executable] = []
    for level, period in ((ROLLUP, Period.DAY), (WEEKS, Period.WEEK), (MONTHS, Period.MONTH)):
        key = london_period(dialect, period, APPOINTMENT.c.starts_at).label("key")
        totals = (
            select(
                key,
                APPOINTMENT.c.clinician_id,
                APPOINTMENT.c.department_id,
                func.count(),
                func.coalesce(func.sum(case((is_missed, 1), else_=0)), 0),
                func.coalesce(func.sum(case((is_missed, APPOINTMENT.c.duration_minutes), else_=0)), 0),
            )
            .where(APPOINTMENT.c.status.in_(SETTLED))
            .group_by(key, APPOINTMENT.c.clinician_id, APPOINTMENT.c.department_id)
        )
        columns = [c.name for c in level.columns]
        empty = text(f"TRUNCATE {level.name}") if Dialect(dialect) is Dialect.POSTGRESQL else delete(level)
        statements += [empty, insert(level).from_select(columns, totals)]
    return statements


async def rebuild_rollup(connection: AsyncConnection) -> None:
    """Recompute the whole rollup from ``appointment``, inside the caller's transaction.

    For data loaded with the triggers disabled (``ALTER TABLE appointment DISABLE TRIGGER USER``
    around a COPY), or to drop zero rows. On SQLite the connection must come from a PANDA engine
    (``domain.db.make_engine``), which registers the London-day function.
    """
    for statement in rebuild_statements(connection.dialect.name):
        await connection.execute(statement)


def rebuild_sql(dialect: str) -> list[str]:
    """:func:`rebuild_statements` as plain SQL, for a loader on the raw driver (asyncpg ``execute``)."""
    sql_dialect: Any = postgresql.dialect() if Dialect(dialect) is Dialect.POSTGRESQL else sqlite.dialect()  # type: ignore[no-untyped-call]
    return [
        str(cast(ClauseElement, statement).compile(dialect=sql_dialect, compile_kwargs={"literal_binds": True}))
        for statement in rebuild_statements(dialect)
    ]


def apply_ddl(connection: Any, statements: tuple[str, ...]) -> None:
    """Run raw DDL statements on a synchronous connection (a migration's)."""
    for statement in statements:
        connection.exec_driver_sql(statement)
