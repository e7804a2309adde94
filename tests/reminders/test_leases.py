"""A network send holds no database transaction: claimed under a lease, sent by a deadline, then recorded.

On SQLite a transaction held through a slow send would be the one write lock, stalling every
booking; on PostgreSQL it would hold the reminder's row lock. A drain that dies mid-send leaves its
reminder due again once the lease ends: sent twice with one idempotency key at worst, never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from sqlalchemy import update

from domain.clock import utcnow
from domain.config import Settings
from domain.models import Reminder
from domain.rules.reminders import LEASE_MARGIN_SECONDS, lease_length
from domain.services.dispatch import drain
from tests.reminders.seed import reminder_states, seed_due_reminders
from tests.reminders.servers import WebhookRecorder

REMINDER = Reminder.__table__


def _settings(settings: Settings, url: str, send_timeout: float = 10.0) -> Settings:
    return settings.model_copy(update={"webhook_url": url, "send_timeout_seconds": send_timeout})


async def _until(condition, what: str, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def _touch(sessions, reminder_id) -> None:  # type: ignore[no-untyped-def]
    """A write to the claimed reminder's own row, in a transaction of its own."""
    async with sessions() as session, session.begin():
        await session.execute(update(REMINDER).where(REMINDER.c.id == reminder_id).values(updated_at=utcnow()))


def test_the_lease_outlasts_every_send_of_its_batch() -> None:
    assert lease_length(10, 1) == dt.timedelta(seconds=10 + LEASE_MARGIN_SECONDS)
    assert lease_length(2.5, 4) == dt.timedelta(seconds=10 + LEASE_MARGIN_SECONDS)


async def test_a_slow_receiver_holds_no_transaction(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")
    (reminder_id,) = seeded.reminder_ids
    recorder.release.clear()
    sending = asyncio.create_task(drain(sessions, "webhook", _settings(reminder_settings, url), 30))
    await _until(lambda: recorder.requests, "the send to reach the receiver")

    started = time.monotonic()
    await asyncio.wait_for(_touch(sessions, reminder_id), timeout=5)  # blocked for 30 s before leases
    assert time.monotonic() - started < 2, "a write went through while the receiver stalled"
    leased = (await reminder_states(sessions))[reminder_id]
    assert leased["status"] == "scheduled" and leased["next_attempt_at"] > utcnow(), "out of reach while sent"
    assert await drain(sessions, "webhook", _settings(reminder_settings, url), 30) == {}, "not claimed twice"

    recorder.release.set()
    assert await sending == {"sent": 1}
    assert (await reminder_states(sessions))[reminder_id]["status"] == "sent"


async def test_a_send_past_its_deadline_is_cut_off_and_retried(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")
    (reminder_id,) = seeded.reminder_ids
    recorder.release.clear()

    started = time.monotonic()
    assert await drain(sessions, "webhook", _settings(reminder_settings, url, send_timeout=0.5), 30) == {"retrying": 1}
    assert time.monotonic() - started < 5, "the drain waited no longer than the send's deadline"
    state = (await reminder_states(sessions))[reminder_id]
    assert (state["status"], state["attempts"], state["last_error"]) == ("scheduled", 1, "SendTimeout")

    recorder.release.set()
    async with sessions() as session, session.begin():  # the back-off has passed
        await session.execute(update(REMINDER).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    assert await drain(sessions, "webhook", _settings(reminder_settings, url), 30) == {"sent": 1}
    assert (await reminder_states(sessions))[reminder_id]["attempts"] == 2


async def test_a_drain_that_dies_mid_send_loses_nothing(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")
    (reminder_id,) = seeded.reminder_ids
    recorder.release.clear()
    dying = asyncio.create_task(drain(sessions, "webhook", _settings(reminder_settings, url), 30))
    await _until(lambda: recorder.requests, "the send to reach the receiver")
    dying.cancel()  # the worker is gone between its send and its record
    await asyncio.gather(dying, return_exceptions=True)
    recorder.release.set()

    assert await drain(sessions, "webhook", _settings(reminder_settings, url), 30) == {}, "leased still"
    async with sessions() as session, session.begin():  # the lease has run out
        await session.execute(update(REMINDER).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))
    assert await drain(sessions, "webhook", _settings(reminder_settings, url), 30) == {"sent": 1}
    keys = [headers["idempotency-key"] for headers, _ in recorder.requests]
    assert keys == [str(reminder_id)] * 2, "sent again with the same idempotency key"
    assert (await reminder_states(sessions))[reminder_id]["status"] == "sent"
