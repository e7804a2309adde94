"""Recording what became of claimed reminders: sent, skipped, retrying or failed, and how they went.

Every update applies only to a reminder still ``scheduled``: one cancelled while its send was in
flight stays ``cancelled``. Each clears the lease a network send took.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.channels import Delivery, ReminderMessage
from domain.config import Settings
from domain.models import Reminder, table
from domain.rules.reminders import ReminderStatus, SkipReason, gives_up, retry_delay

REMINDER = table(Reminder)
STILL_SCHEDULED = REMINDER.c.status == ReminderStatus.SCHEDULED


async def mark(session: AsyncSession, ids: list[Any], **values: Any) -> None:
    """Set ``values`` on the reminders ``ids`` that are still scheduled."""
    if ids:
        await session.execute(update(REMINDER).where(REMINDER.c.id.in_(ids), STILL_SCHEDULED).values(**values))


async def record_skips(session: AsyncSession, skipped: dict[SkipReason, list[Any]], now: Any) -> Counter[str]:
    """Skipped reminders, with the reason code (never patient data) in ``last_error``."""
    outcome: Counter[str] = Counter()
    for reason, ids in skipped.items():
        await mark(
            session, ids, status=ReminderStatus.SKIPPED, last_error=reason.value, leased_until=None, updated_at=now
        )
        outcome[ReminderStatus.SKIPPED.value] += len(ids)
    return outcome


async def record_route(session: AsyncSession, messages: list[ReminderMessage], **values: Any) -> None:
    """Each reminder's medium and language (and ``values``, such as a lease) before it is sent."""
    if not messages:
        return
    stmt = (
        update(REMINDER)
        .where(REMINDER.c.id == bindparam("b_id"), STILL_SCHEDULED)
        .values(medium=bindparam("b_medium"), language=bindparam("b_language"), **values)
    )
    params = [{"b_id": m.reminder_id, "b_medium": m.medium.value, "b_language": m.language.value} for m in messages]
    await session.execute(stmt, params)


async def record_deliveries(
    session: AsyncSession,
    messages: list[ReminderMessage],
    deliveries: list[Delivery],
    attempts: dict[Any, int],
    settings: Settings,
    now: Any,
) -> Counter[str]:
    """Sent ones are ``sent``; failed ones wait out their back-off or are ``failed`` for good."""
    sent = [m.reminder_id for m, outcome in zip(messages, deliveries, strict=True) if outcome is None]
    failed: list[tuple[Any, Delivery]] = [
        (m.reminder_id, outcome) for m, outcome in zip(messages, deliveries, strict=True) if outcome
    ]
    outcome: Counter[str] = Counter({ReminderStatus.SENT.value: len(sent)})
    await _record_sent(session, sent, attempts, now)
    outcome.update(await _record_failures(session, failed, attempts, settings, now))
    return outcome


async def _record_sent(session: AsyncSession, sent: list[Any], attempts: dict[Any, int], now: Any) -> None:
    # Attempts differ per reminder only after retries; group so a batch costs one statement or few.
    by_attempts: dict[int, list[Any]] = {}
    for reminder_id in sent:
        by_attempts.setdefault(attempts[reminder_id], []).append(reminder_id)
    for count, ids in by_attempts.items():
        await mark(
            session,
            ids,
            status=ReminderStatus.SENT,
            attempts=count,
            sent_at=now,
            next_attempt_at=None,
            leased_until=None,
            last_error=None,
            updated_at=now,
        )


async def _record_failures(
    session: AsyncSession, failed: list[tuple[Any, Delivery]], attempts: dict[Any, int], settings: Settings, now: Any
) -> Counter[str]:
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
            .where(REMINDER.c.id == bindparam("b_id"), STILL_SCHEDULED)
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error"),
                leased_until=None,
                updated_at=now,
            )
        )
        await session.execute(stmt, params)
    return outcome
