"""The missed-status sweep: store ``missed`` for active appointments whose end has passed.

Reads already report such an appointment as ``missed`` (``domain.rules.effective_status``);
the sweep makes the stored status catch up, so the database agrees without a read.
"""

from __future__ import annotations

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import utcnow
from domain.models import Appointment, table
from domain.rules import Status
from domain.rules.status import ended_while_active_sql

APPOINTMENT = table(Appointment)

log = structlog.get_logger("panda.sweep")


async def store_missed(session: AsyncSession) -> int:
    """Store ``missed`` on every ended appointment still stored ``active``; return how many."""
    now = utcnow()
    # The stored-active half of the effective ``missed`` status (PostgreSQL uses the (status, ends_at) index).
    ended_unattended = ended_while_active_sql(APPOINTMENT.c.status, APPOINTMENT.c.ends_at, now)
    result = await session.execute(
        update(APPOINTMENT).where(ended_unattended).values(status=Status.MISSED, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def sweep_missed(sessions: async_sessionmaker[AsyncSession]) -> int:
    """One sweep in its own transaction."""
    async with sessions() as session, session.begin():
        stored = await store_missed(session)
    if stored:
        log.info("appointments.missed_stored", count=stored)
    return stored
