"""Fault tests: workers killed, the broker wiped and restarted, schedulers and workers doubled.

Each seeds 1,000 due reminders and ends with every one sent exactly once: one outbox message
per reminder, every reminder ``sent`` after a single attempt. Claims of one reminder at a time
make the run last long enough to break it in the middle.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.config import Settings
from tests.reminders.seed import outbox_counts, reminder_states, seed_due_reminders, status_counts
from tests.reminders.servers import free_port
from tests.worker.conftest import wait_until, worker_env
from tests.worker.processes import Process, start_beat, start_redis, start_worker

pytestmark = pytest.mark.slow

REMINDERS = 1000
FINISH_SECONDS = 120.0


async def outbox_total(sessions: async_sessionmaker[AsyncSession]) -> int:
    return (await outbox_counts(sessions))[0]


async def assert_each_sent_exactly_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def all_sent() -> bool:
        return await status_counts(sessions) == {"sent": REMINDERS}

    await wait_until(all_sent, FINISH_SECONDS, f"{REMINDERS} reminders sent")
    assert await outbox_counts(sessions) == (REMINDERS, REMINDERS)
    assert {row["attempts"] for row in (await reminder_states(sessions)).values()} == {1}


async def wait_for_progress(sessions: async_sessionmaker[AsyncSession], at_least: int) -> int:
    async def progressed() -> bool:
        return await outbox_total(sessions) >= at_least

    await wait_until(progressed, FINISH_SECONDS, f"{at_least} reminders in the outbox")
    return await outbox_total(sessions)


async def test_kill_9_in_the_middle_then_a_new_worker(
    pg_settings: Settings, pg_sessions, processes: list[Process], tmp_path: Path
) -> None:
    env = worker_env(pg_settings, REMINDER_BATCH_SIZE="1")
    await seed_due_reminders(pg_sessions, REMINDERS)
    first = start_worker(env, tmp_path, "w1")
    processes.append(first)
    processes.append(start_beat(env, tmp_path))

    await wait_for_progress(pg_sessions, 100)
    os.kill(first.children()[0], signal.SIGKILL)  # one pool process dies mid-batch
    await wait_for_progress(pg_sessions, 250)
    first.kill_hard()  # then the whole worker, main process included
    assert await outbox_total(pg_sessions) < REMINDERS, "the worker must die in the middle of the run"

    processes.append(start_worker(env, tmp_path, "w2"))

    await assert_each_sent_exactly_once(pg_sessions)


async def test_redis_flushall_and_restart_while_reminders_are_pending(
    pg_settings: Settings, pg_sessions, processes: list[Process], tmp_path: Path
) -> None:
    port = free_port()
    own_redis = start_redis(port, tmp_path)
    processes.append(own_redis)
    env = worker_env(pg_settings, BROKER_URL=f"redis://127.0.0.1:{port}/0", REMINDER_BATCH_SIZE="1")
    await seed_due_reminders(pg_sessions, REMINDERS)
    processes.append(start_worker(env, tmp_path))
    processes.append(start_beat(env, tmp_path))

    await wait_for_progress(pg_sessions, 150)
    client = redis.Redis(port=port)
    client.flushall()  # every queued and unacknowledged task is gone
    client.close()
    own_redis.stop()  # and the broker goes away altogether
    assert await outbox_total(pg_sessions) < REMINDERS, "Redis must go in the middle of the run"
    processes.append(start_redis(port, tmp_path))

    await assert_each_sent_exactly_once(pg_sessions)


async def test_two_schedulers_and_two_workers_at_once(
    pg_settings: Settings, pg_sessions, processes: list[Process], tmp_path: Path
) -> None:
    env = worker_env(pg_settings, REMINDER_BATCH_SIZE="10", REMINDER_PARALLELISM="4")
    for name in ("w1", "w2"):
        processes.append(start_worker(env, tmp_path, name))
    for name in ("beat1", "beat2"):
        processes.append(start_beat(env, tmp_path, name))

    await seed_due_reminders(pg_sessions, REMINDERS)

    await assert_each_sent_exactly_once(pg_sessions)
    drained_by = [p.name for p in processes if p.name.startswith("w") and "reminders.drained" in p.log()]
    assert sorted(drained_by) == ["w1", "w2"], "both workers must have taken a share"
