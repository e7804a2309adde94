"""Dispatching due reminders: claim a batch safely, send it through its channel, record the outcome.

On PostgreSQL the claim is ``SELECT … FOR UPDATE OF reminder SKIP LOCKED``: concurrent drains take
disjoint batches. On SQLite every write transaction is ``BEGIN IMMEDIATE`` (see ``domain.db``), so
drains take turns instead.

The ``outbox`` channel writes in the database: claim, messages and outcome share one transaction,
and a drain that dies has it rolled back, so its reminders are simply due again. A channel that
sends over the network never holds a transaction while it waits (on SQLite that would be the one
write lock, stalling every booking): the claim commits a *lease* (``next_attempt_at`` moved past
the send's deadline), each send is cut off at ``SEND_TIMEOUT_SECONDS``, and the outcome is recorded
in a second transaction. A drain that dies between send and record leaves its reminders due again
once the lease ends: sent twice with the same idempotency key at worst, never lost.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import ColumnElement, RowMapping, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.channels import CHANNELS, Channel, Delivery, ReminderMessage, SendFailure, open_channel
from domain.channels.compose import compose
from domain.clock import utcnow
from domain.config import Settings
from domain.models import Appointment, Department, Patient, Reminder, table
from domain.rules.reminders import ReminderStatus, SkipReason, gives_up, lease_length, retry_delay, skip_reason

REMINDER = table(Reminder)
APPOINTMENT = table(Appointment)
DEPARTMENT = table(Department)
PATIENT = table(Patient)

log = structlog.get_logger("panda.reminders")

CLAIM_FROM = (
    REMINDER.outerjoin(APPOINTMENT, APPOINTMENT.c.id == REMINDER.c.appointment_id)
    .outerjoin(DEPARTMENT, DEPARTMENT.c.id == APPOINTMENT.c.department_id)
    .outerjoin(PATIENT, PATIENT.c.id == APPOINTMENT.c.patient_id)
)
CLAIM_COLUMNS = (
    REMINDER.c.id,
    REMINDER.c.attempts,
    REMINDER.c.appointment_id,
    APPOINTMENT.c.status.label("appointment_status"),
    APPOINTMENT.c.starts_at,
    APPOINTMENT.c.ends_at,
    APPOINTMENT.c.postcode,
    DEPARTMENT.c.name.label("department"),
    PATIENT.c.email,
    PATIENT.c.phone,
)


def due_condition(now: Any) -> ColumnElement[bool]:
    """Scheduled, due, and not held back by a retry's back-off."""
    col = REMINDER.c
    return and_(
        col.status == ReminderStatus.SCHEDULED,
        col.due_at <= now,
        or_(col.next_attempt_at.is_(None), col.next_attempt_at <= now),
    )


async def count_due(session: AsyncSession) -> dict[str, int]:
    """How many reminders are due now, per channel."""
    stmt = select(REMINDER.c.channel, func.count()).where(due_condition(utcnow())).group_by(REMINDER.c.channel)
    return {str(channel): int(count) for channel, count in (await session.execute(stmt)).tuples()}


def drains_needed(due: int, batch_size: int, parallelism: int) -> int:
    """Enough parallel drains for the due reminders, at most ``parallelism``."""
    return min(math.ceil(due / batch_size), parallelism)


async def plan_drains(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, int]:
    """How many drains to start per channel, for the reminders due now."""
    async with sessions() as session, session.begin():
        due = await count_due(session)
    plan: dict[str, int] = {}
    for channel_name, count in due.items():
        channel = CHANNELS.get(channel_name)
        if channel is None:  # planned under a channel this version does not know: never sent, never lost
            log.warning("reminders.unknown_channel", channel=channel_name, due=count)
            continue
        plan[channel_name] = drains_needed(count, channel.claim_size(settings), settings.reminder_parallelism)
    return plan


async def claim_due(session: AsyncSession, channel: str, limit: int) -> list[RowMapping]:
    """Lock up to ``limit`` due reminders of ``channel`` that no other transaction holds."""
    stmt = (
        select(*CLAIM_COLUMNS)
        .select_from(CLAIM_FROM)
        .where(due_condition(utcnow()), REMINDER.c.channel == channel)
        .order_by(REMINDER.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=REMINDER)
    )
    return list((await session.execute(stmt)).mappings().all())


@dataclass
class ClaimedBatch:
    """Claimed reminders sorted out: the messages to send and the reminders to skip, with why."""

    messages: list[ReminderMessage] = field(default_factory=list)
    attempts: dict[Any, int] = field(default_factory=dict)
    skipped: dict[SkipReason, list[Any]] = field(default_factory=dict)


def sort_claimed(channel: Channel, rows: list[RowMapping], now: Any) -> ClaimedBatch:
    """Decide for each claimed reminder: skip it (and why) or compose its message."""
    batch = ClaimedBatch()
    for row in rows:
        reason = skip_reason(row["appointment_status"], row["starts_at"], row["ends_at"], now)
        if reason is None and channel.recipient(row["email"], row["phone"]) is None:
            reason = SkipReason.NO_CONTACT
        if reason is not None:
            batch.skipped.setdefault(reason, []).append(row["id"])
            continue
        batch.attempts[row["id"]] = row["attempts"] + 1
        batch.messages.append(
            compose(
                row["id"],
                row["appointment_id"],
                row["starts_at"],
                row["department"],
                row["postcode"],
                row["email"],
                row["phone"],
            )
        )
    return batch


async def record_outcomes(
    session: AsyncSession, batch: ClaimedBatch, deliveries: list[Delivery], settings: Settings, now: Any
) -> Counter[str]:
    """Store what became of each claimed reminder: sent, skipped, retrying or failed."""
    pairs = list(zip(batch.messages, deliveries, strict=True))
    sent = [message.reminder_id for message, outcome in pairs if outcome is None]
    failed: list[tuple[Any, Delivery]] = [(message.reminder_id, outcome) for message, outcome in pairs if outcome]
    outcome = Counter({ReminderStatus.SENT.value: len(sent)})
    await _record_sent(session, sent, batch.attempts, now)
    for reason, ids in batch.skipped.items():
        await _mark(session, ids, status=ReminderStatus.SKIPPED, last_error=reason.value, updated_at=now)
        outcome[ReminderStatus.SKIPPED.value] += len(ids)
    outcome.update(await _record_failures(session, failed, batch.attempts, settings, now))
    return +outcome


async def send_claimed(session: AsyncSession, channel: Channel, rows: list[RowMapping]) -> Counter[str]:
    """Decide, send and record each claimed reminder, inside the claiming transaction (the outbox)."""
    now = utcnow()
    batch = sort_claimed(channel, rows, now)
    deliveries = await channel.deliver(session, batch.messages)
    return await record_outcomes(session, batch, deliveries, channel.settings, now)


async def deliver_by_deadline(channel: Channel, messages: list[ReminderMessage]) -> list[Delivery]:
    """Send each message with one overall deadline (``SEND_TIMEOUT_SECONDS``), outside any transaction.

    A client's own timeouts bound each read, not the whole exchange: a server answering a byte at a
    time would hold a send for ever. Past the deadline the send counts as a transient failure.
    """
    deliveries: list[Delivery] = []
    for message in messages:
        try:
            async with asyncio.timeout(channel.settings.send_timeout_seconds):
                deliveries.extend(await channel.deliver(None, [message]))
        except TimeoutError:
            await channel.abandon()
            deliveries.append(SendFailure("SendTimeout"))
    return deliveries


async def send_leased(
    sessions: async_sessionmaker[AsyncSession], channel: Channel
) -> tuple[list[RowMapping], Counter[str]]:
    """Claim under a lease, send with no transaction open, then record: a network channel's batch."""
    now = utcnow()
    async with sessions() as session, session.begin():
        rows = await claim_due(session, channel.name, channel.batch_size)
        if rows:
            lease_ends = now + lease_length(channel.settings.send_timeout_seconds, len(rows))
            await _mark(session, [row["id"] for row in rows], next_attempt_at=lease_ends, updated_at=now)
    if not rows:
        return rows, Counter()
    batch = sort_claimed(channel, rows, now)
    deliveries = await deliver_by_deadline(channel, batch.messages)
    async with sessions() as session, session.begin():
        return rows, await record_outcomes(session, batch, deliveries, channel.settings, utcnow())


async def drain(
    sessions: async_sessionmaker[AsyncSession], channel_name: str, settings: Settings, budget_seconds: float
) -> Counter[str]:
    """Send due reminders of one channel, batch after batch, until none is left or time is up."""
    deadline = time.monotonic() + budget_seconds
    totals: Counter[str] = Counter()
    async with open_channel(channel_name, settings) as channel:
        while time.monotonic() < deadline:
            if channel.transactional:
                async with sessions() as session, session.begin():
                    rows = await claim_due(session, channel.name, channel.batch_size)
                    if rows:
                        totals.update(await send_claimed(session, channel, rows))
            else:
                rows, outcome = await send_leased(sessions, channel)
                totals.update(outcome)
            if len(rows) < channel.batch_size:
                break
    if totals:
        log.info("reminders.drained", channel=channel_name, **totals)
    return totals


async def _mark(session: AsyncSession, ids: list[Any], **values: Any) -> None:
    if ids:
        still_scheduled = REMINDER.c.status == ReminderStatus.SCHEDULED
        await session.execute(update(REMINDER).where(REMINDER.c.id.in_(ids), still_scheduled).values(**values))


async def _record_sent(session: AsyncSession, sent: list[Any], attempts: dict[Any, int], now: Any) -> None:
    # Attempts differ per reminder only after retries; group so a batch costs one statement or few.
    by_attempts: dict[int, list[Any]] = {}
    for reminder_id in sent:
        by_attempts.setdefault(attempts[reminder_id], []).append(reminder_id)
    for count, ids in by_attempts.items():
        await _mark(
            session,
            ids,
            status=ReminderStatus.SENT,
            attempts=count,
            sent_at=now,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )


async def _record_failures(
    session: AsyncSession, failed: list[tuple[Any, Delivery]], attempts: dict[Any, int], settings: Settings, now: Any
) -> Counter[str]:
    """A failed send waits out its back-off, or is ``failed`` for good after the last attempt."""
    outcome: Counter[str] = Counter()
    params = []
    for reminder_id, failure in failed:
        assert failure is not None
        count = attempts[reminder_id]
        final = failure.permanent or gives_up(count, settings.reminder_max_attempts)
        delay = retry_delay(count, settings.reminder_retry_seconds, settings.reminder_retry_max_seconds)
        params.append(
            {
                "b_id": reminder_id,
                "b_status": ReminderStatus.FAILED if final else ReminderStatus.SCHEDULED,
                "b_attempts": count,
                "b_next": None if final else now + delay,
                "b_error": failure.reason,
            }
        )
        outcome[ReminderStatus.FAILED.value if final else "retrying"] += 1
    if params:
        stmt = (
            update(REMINDER)
            .where(REMINDER.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                updated_at=now,
            )
        )
        await session.execute(stmt, params)
    return outcome
