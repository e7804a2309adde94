"""The missed-status sweep: store ``missed`` for active appointments whose end has passed.

Reads already report such an appointment as ``missed`` (``domain.rules.effective_status``);
the sweep makes the stored status catch up, so the database agrees without a read. It also
removes expired slot holds (SPEC §10).
"""

from __future__ import annotations

import structlog
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import utcnow
from domain.models import Appointment, SlotHold, table
from domain.rules import Status
from domain.rules.status import ended_while_active_sql

APPOINTMENT = table(Appointment)
HOLD = table(SlotHold)

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


async def remove_expired_holds(session: AsyncSession) -> int:
    """Delete slot holds that have expired; return how many.

    An expired hold already blocks nothing (every check compares ``expires_at`` with now); this
    only keeps the table small.
    """
    result = await session.execute(delete(HOLD).where(HOLD.c.expires_at <= utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def sweep_missed(sessions: async_sessionmaker[AsyncSession]) -> int:
    """One sweep in its own transaction: store ``missed`` statuses (their count is returned) and
    remove expired slot holds."""
    async with sessions() as session, session.begin():
        stored = await store_missed(session)
        removed = await remove_expired_holds(session)
    if stored:
        log.info("appointments.missed_stored", count=stored)
    if removed:
        log.info("slot_holds.expired_removed", count=removed)
    return stored
