"""The scheduler's lease in the database, on PostgreSQL and SQLite: exactly one holder at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.db import make_engine
from domain.models import SchedulerLease, table
from domain.rules.scheduler_lease import SCHEDULER_LEASE, may_hold
from domain.services.scheduler_lease import hold_lease, release_lease
from domain.sql import SessionRunner

STORED = table(SchedulerLease)

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


contenders = st.sampled_from(["a", "b", "c"])
instants = st.integers(-3, 3).map(lambda seconds: T0 + dt.timedelta(seconds=seconds))


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(existing=st.none() | st.tuples(contenders, instants), contender=contenders, now=instants)
def test_the_stored_lease_decides_as_the_rule_does(
    settings: Settings, existing: tuple[str, dt.datetime] | None, contender: str, now: dt.datetime
) -> None:
    # The upsert's condition (SQL) against may_hold (Python): the same answer, and the row it leaves.
    asyncio.run(_decide(settings, existing, contender, now))


async def _decide(
    settings: Settings, existing: tuple[str, dt.datetime] | None, contender: str, now: dt.datetime
) -> None:
    engine = make_engine(settings)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(delete(STORED))
            if existing is not None:
                await session.execute(
                    insert(STORED).values(name=SCHEDULER_LEASE, holder=existing[0], expires_at=existing[1])
                )
        async with AsyncSession(engine) as session:
            held = await hold_lease(SessionRunner(session), SCHEDULER_LEASE, contender, now, now + LEASE)
        holder, expires_at = existing if existing is not None else (None, None)
        expected = may_hold(holder, expires_at, contender, now)
        assert held is expected
        async with AsyncSession(engine) as session:
            row = (await session.execute(select(STORED.c.holder, STORED.c.expires_at))).one()
        assert tuple(row) == ((contender, now + LEASE) if expected else existing)
    finally:
        await engine.dispose()
