"""Emptying the test database between tests: every table the models declare, in a few milliseconds.

``TRUNCATE`` of fifteen tables costs PostgreSQL ~30 ms of file work per test; deleting a test's
handful of rows costs well under one. On PostgreSQL the deletes run with triggers off
(``session_replication_role = replica``, a superuser's right, which the test server grants):
that skips the foreign-key checks, so the order does not matter, and lets the append-only
``audit_event`` be emptied, which its trigger otherwise refuses. A server that refuses the
setting gets ``TRUNCATE``.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.models import AppointmentDayTotal, AppointmentMonthTotal, AppointmentWeekTotal, Patient, table

# Written by triggers on ``appointment`` (SQLite's fire on these deletes): emptied after it.
ROLLUP_TABLES = tuple(table(model).name for model in (AppointmentDayTotal, AppointmentWeekTotal, AppointmentMonthTotal))
# Children before parents, so SQLite's foreign keys hold at every step.
ALL_TABLES = (
    *(t.name for t in reversed(table(Patient).metadata.sorted_tables) if t.name not in ROLLUP_TABLES),
    *ROLLUP_TABLES,
)


async def empty_tables(connection: AsyncConnection, tables: tuple[str, ...] = ALL_TABLES) -> None:
    """Delete every row of ``tables`` (by default all of PANDA's), inside the caller's transaction."""
    if connection.dialect.name == "postgresql":
        superuser = (await connection.execute(text("SELECT current_setting('is_superuser')"))).scalar()
        if superuser != "on":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
    for name in tables:
        await connection.execute(text(f"DELETE FROM {name}"))
