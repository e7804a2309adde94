"""The scheduler's lease in the database, on PostgreSQL and SQLite: exactly one holder at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from domain.rules.scheduler_lease import SCHEDULER_LEASE
from domain.services.scheduler_lease import hold_lease, release_lease
from domain.sql import SessionRunner

T0 = dt.datetime(2026, 10, 25, 0, 59, 59, tzinfo=dt.UTC)  # a clock change in London: UTC goes on
LEASE = dt.timedelta(seconds=15)


async def hold(sessions: Any, contender: str, now: dt.datetime) -> bool:
    async with sessions() as session:
        return await hold_lease(SessionRunner(session), SCHEDULER_LEASE, contender, now, now + LEASE)


async def release(sessions: Any, holder: str, now: dt.datetime) -> None:
    async with sessions() as session:
        await release_lease(SessionRunner(session), SCHEDULER_LEASE, holder, now)


async def test_one_contender_wins_renews_and_loses_it_only_by_expiry(sessions: Any) -> None:
    assert await hold(sessions, "a", T0)
    assert not await hold(sessions, "b", T0 + dt.timedelta(seconds=1))
    assert await hold(sessions, "a", T0 + dt.timedelta(seconds=10))  # renewed: now until T0 + 25 s
    assert not await hold(sessions, "b", T0 + dt.timedelta(seconds=24))
    assert await hold(sessions, "b", T0 + dt.timedelta(seconds=25))  # a stopped renewing: expired
    assert not await hold(sessions, "a", T0 + dt.timedelta(seconds=26)), "a stale holder cannot renew"
    assert await hold(sessions, "b", T0 + dt.timedelta(seconds=27))


async def test_a_released_lease_is_taken_at_once_and_only_its_holder_releases_it(sessions: Any) -> None:
    assert await hold(sessions, "a", T0)
    await release(sessions, "b", T0 + dt.timedelta(seconds=1))  # not b's to release
    assert not await hold(sessions, "b", T0 + dt.timedelta(seconds=1))
    await release(sessions, "a", T0 + dt.timedelta(seconds=2))
    assert await hold(sessions, "b", T0 + dt.timedelta(seconds=2))


async def test_simultaneous_contenders_for_a_free_or_expired_lease_get_one_winner(sessions: Any, backend: str) -> None:
    for round_start in (T0, T0 + dt.timedelta(minutes=1)):  # first free, then expired
        results = await asyncio.gather(*(hold(sessions, f"c{i}", round_start) for i in range(8)))
        assert sum(results) == 1, (backend, results)
