"""Celery beat that sends periodic tasks only while it holds the scheduler's lease (SPEC §12).

Any number of ``panda scheduler`` processes may run; each checks the lease every quarter
``SCHEDULER_INTERVAL``. The holder ticks as plain beat does; the others stand by, and the first
to find the lease expired becomes active. The schedule lives in memory (no shared file to fight
over): after a takeover every entry is due at once, which is harmless, since dispatch, the sweep
and the stalled-job check are idempotent (claims and status changes are decided in the database).
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any

import structlog
from celery.beat import Scheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import utcnow
from domain.config import get_settings
from domain.logs import describe_exception
from domain.rules.scheduler_lease import SCHEDULER_LEASE, LeaseTiming
from domain.services.scheduler_lease import hold_lease, release_lease
from domain.sql import SessionRunner
from worker.celery_app import run_in_process

log = structlog.get_logger("panda.scheduler")


def holder_id() -> str:
    """This process, as the lease names it: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class LeasedScheduler(Scheduler):
    """Beat's scheduler, gated by the lease."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.timing = LeaseTiming(get_settings().scheduler_interval)
        self.holder = holder_id()
        self.holding: bool | None = None  # unknown until the first check
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Send what is due only while holding the lease; come back within one lease check."""
        if not self._check_lease():
            return self.timing.check_every
        return float(min(super().tick(*args, **kwargs), self.timing.check_every))

    def close(self) -> None:
        """On a clean stop, let a standby take over at once instead of after the lease expires."""
        if self.holding:
            try:
                run_in_process(self._release)
            except Exception as exc:  # noqa: BLE001 - the lease then simply expires
                log.warning("scheduler.release_failed", **describe_exception(exc))
        super().close()

    def _check_lease(self) -> bool:
        try:
            holding = run_in_process(self._hold)
        except Exception as exc:  # noqa: BLE001 - no database: stand by, try again next check
            log.warning("scheduler.lease_unavailable", **describe_exception(exc))
            holding = False
        if holding != self.holding:
            log.info("scheduler.active" if holding else "scheduler.standby", holder=self.holder)
            if holding:
                self._heap = None  # due entries are recomputed from now on
        self.holding = holding
        return holding

    async def _hold(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        now = utcnow()
        async with sessions() as session:
            return await hold_lease(SessionRunner(session), SCHEDULER_LEASE, self.holder, now, now + self.timing.length)

    async def _release(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            await release_lease(SessionRunner(session), SCHEDULER_LEASE, self.holder, utcnow())
