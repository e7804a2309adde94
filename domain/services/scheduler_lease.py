"""Taking, renewing and releasing the scheduler's lease: one conditional upsert each way.

The condition is :func:`domain.rules.scheduler_lease.may_hold` in SQL: the row is written only if
it is the contender's own or has expired, and ``RETURNING`` says whether it was. The database
decides between contenders (a row lock on PostgreSQL, the one write lock on SQLite), so two can
never both be told they hold it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update

from domain.dialects import dialect_insert
from domain.models import SchedulerLease, table
from domain.sql import SqlRunner

LEASE = table(SchedulerLease)


async def hold_lease(sql: SqlRunner, name: str, contender: str, now: dt.datetime, until: dt.datetime) -> bool:
    """Take or renew lease ``name`` for ``contender`` until ``until``; whether it holds it now."""
    insert = dialect_insert(LEASE, sql.dialect).values(name=name, holder=contender, expires_at=until)
    statement = insert.on_conflict_do_update(
        index_elements=[LEASE.c.name],
        set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
        where=or_(LEASE.c.holder == insert.excluded.holder, LEASE.c.expires_at <= now),
    ).returning(LEASE.c.holder)
    async with sql.transaction():
        holder: str | None = await sql.scalar(statement)
    return holder == contender


async def release_lease(sql: SqlRunner, name: str, holder: str, now: dt.datetime) -> None:
    """End ``holder``'s lease at once (a clean stop), so a standby need not wait for it to expire."""
    statement = update(LEASE).where(LEASE.c.name == name, LEASE.c.holder == holder).values(expires_at=now)
    async with sql.transaction():
        await sql.execute(statement)
