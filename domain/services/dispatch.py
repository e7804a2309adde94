"""Dispatching due reminders: claim a batch safely, send it through its channel, record the outcome.

On PostgreSQL a claim is ``SELECT … FOR UPDATE OF reminder SKIP LOCKED``: concurrent drains take
disjoint batches. How the send relates to the transaction depends on the channel:

- the ``outbox`` (``transactional``) writes its message in the claiming transaction, so claim,
  message and outcome commit together or not at all: exactly once;
- a network channel (``smtp``, ``webhook``, ``notify``) must not hold a transaction (on SQLite,
  the one write lock) while it waits on a server. The claim commits a **lease**
  (``next_attempt_at`` moved past the sends' deadlines) instead; each send runs with no
  transaction open and is cut off at ``SEND_TIMEOUT_SECONDS``; a second short transaction records
  the outcome. A drain that dies between the two leaves the lease to expire, and the reminder is
  sent again with the same idempotency key: at least once, never lost.

The medium and language are chosen here, at dispatch, from the patient's details of the moment.
On SQLite every write transaction is ``BEGIN IMMEDIATE`` (see ``domain.db``), so drains take turns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import ColumnElement, RowMapping, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.channels import CHANNELS, Channel, Delivery, ReminderMessage, SendFailure, open_channel
from domain.channels.compose import compose
from domain.clock import utcnow
from domain.config import Settings
from domain.models import Appointment, Clinician, Department, Patient, Reminder, table
from domain.rules.preferences import Medium
from domain.rules.reminders import ReminderStatus, SkipReason, lease_length, reminder_route, skip_reason
from domain.services.dispatch_outcomes import lease, record_deliveries, record_skips

REMINDER = table(Reminder)
APPOINTMENT = table(Appointment)
DEPARTMENT = table(Department)
CLINICIAN = table(Clinician)
PATIENT = table(Patient)

log = structlog.get_logger("panda.reminders")

CLAIM_FROM = (
    REMINDER.outerjoin(APPOINTMENT, APPOINTMENT.c.id == REMINDER.c.appointment_id)
    .outerjoin(DEPARTMENT, DEPARTMENT.c.id == APPOINTMENT.c.department_id)
    .outerjoin(CLINICIAN, CLINICIAN.c.id == APPOINTMENT.c.clinician_id)
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
    CLINICIAN.c.name.label("clinician"),
    PATIENT.c.name,
    PATIENT.c.email,
    PATIENT.c.phone,
    PATIENT.c.email_unusable,
    PATIENT.c.phone_unusable,
    PATIENT.c.reminder_preference,
    PATIENT.c.language,
)


def due_condition(now: Any) -> ColumnElement[bool]:
    """Scheduled, due, and not held back by a retry's back-off or a drain's lease."""
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
class Prepared:
    """Claimed reminders sorted out: those to skip (by reason), the messages to send, their attempt numbers."""

    skipped: dict[SkipReason, list[Any]] = field(default_factory=dict)
    messages: list[ReminderMessage] = field(default_factory=list)
    attempts: dict[Any, int] = field(default_factory=dict)


def prepare(rows: list[RowMapping], channel: Channel, now: dt.datetime) -> Prepared:
    """Decide each claimed reminder: skip it (appointment, opt-out, no contact), or write its message."""
    prepared = Prepared()
    for row in rows:
        route = skip_reason(row["appointment_status"], row["starts_at"], row["ends_at"], now) or reminder_route(
            row["reminder_preference"],
            row["language"],
            row["email"],
            row["phone"],
            email_unusable=bool(row["email_unusable"]),
            phone_unusable=bool(row["phone_unusable"]),
            media=channel.media,
        )
        if isinstance(route, SkipReason):
            prepared.skipped.setdefault(route, []).append(row["id"])
            continue
        medium, language = route
        prepared.attempts[row["id"]] = row["attempts"] + 1
        prepared.messages.append(
            compose(
                row["id"],
                row["appointment_id"],
                row["starts_at"],
                medium=medium,
                recipient=row["email"] if medium is Medium.EMAIL else row["phone"],
                language=language,
                name=row["name"],
                clinician=row["clinician"],
                department=row["department"],
                postcode=row["postcode"],
            )
        )
    return prepared


async def send_claimed(session: AsyncSession, channel: Channel, rows: list[RowMapping]) -> Counter[str]:
    """Decide, send and record each claimed reminder, inside the claiming transaction (the outbox)."""
    now = utcnow()
    prepared = prepare(rows, channel, now)
    outcome = await record_skips(session, prepared.skipped, now)
    deliveries = await channel.deliver(session, prepared.messages)
    outcome.update(
        await record_deliveries(session, prepared.messages, deliveries, prepared.attempts, channel.settings, now)
    )
    return +outcome


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


async def send_leased(sessions: async_sessionmaker[AsyncSession], channel: Channel) -> tuple[int, Counter[str]]:
    """Claim and lease a batch, send it with no transaction open, then record the outcomes.

    Returns how many reminders were claimed, and what became of them.
    """
    async with sessions() as session, session.begin():
        rows = await claim_due(session, channel.name, channel.batch_size)
        if not rows:
            return 0, Counter()
        now = utcnow()
        prepared = prepare(rows, channel, now)
        outcome = await record_skips(session, prepared.skipped, now)
        settings = channel.settings
        until = now + lease_length(settings.send_timeout_seconds, len(rows), settings.reminder_lease_margin_seconds)
        await lease(session, [m.reminder_id for m in prepared.messages], until, now)
    deliveries = await deliver_by_deadline(channel, prepared.messages)
    async with sessions() as session, session.begin():
        outcome.update(
            await record_deliveries(
                session, prepared.messages, deliveries, prepared.attempts, channel.settings, utcnow()
            )
        )
    return len(rows), +outcome


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
                claimed = len(rows)
            else:
                claimed, outcome = await send_leased(sessions, channel)
                totals.update(outcome)
            if claimed < channel.batch_size:
                break
    if totals:
        log.info("reminders.drained", channel=channel_name, **totals)
    return totals
