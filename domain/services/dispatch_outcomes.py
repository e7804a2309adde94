"""Recording what became of claimed reminders: sent, skipped, retrying or failed, and how they went.

Every update applies only to a reminder still ``scheduled``: one cancelled while its send was in
flight stays ``cancelled``. A network send's lease is ``next_attempt_at`` moved past its deadline;
an outcome replaces it (``None`` once sent, the back-off after a failure).
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
            session, ids, status=ReminderStatus.SKIPPED, last_error=reason.value, next_attempt_at=None, updated_at=now
        )
        outcome[ReminderStatus.SKIPPED.value] += len(ids)
    return outcome


async def lease(session: AsyncSession, ids: list[Any], until: Any, now: Any) -> None:
    """Hold claimed reminders for their send: no other drain claims them before ``until``."""
    await mark(session, ids, next_attempt_at=until, updated_at=now)


async def record_deliveries(
    session: AsyncSession,
    messages: list[ReminderMessage],
    deliveries: list[Delivery],
    attempts: dict[Any, int],
    settings: Settings,
    now: Any,
) -> Counter[str]:
    """Sent ones are ``sent``; failed ones wait out their back-off or are ``failed`` for good.

    Each records the medium and language it went (or was tried) in.
    """
    sent = [m for m, outcome in zip(messages, deliveries, strict=True) if outcome is None]
    failed: list[tuple[ReminderMessage, Delivery]] = [
        (m, outcome) for m, outcome in zip(messages, deliveries, strict=True) if outcome
    ]
    outcome: Counter[str] = Counter({ReminderStatus.SENT.value: len(sent)})
    await _record_sent(session, sent, attempts, now)
    outcome.update(await _record_failures(session, failed, attempts, settings, now))
    return outcome


async def _record_sent(session: AsyncSession, sent: list[ReminderMessage], attempts: dict[Any, int], now: Any) -> None:
    # Attempts, medium and language differ in few ways per batch: group so it costs a statement or few.
    groups: dict[tuple[int, str, str], list[Any]] = {}
    for message in sent:
        key = (attempts[message.reminder_id], message.medium.value, message.language.value)
        groups.setdefault(key, []).append(message.reminder_id)
    for (count, medium, language), ids in groups.items():
        await mark(
            session,
            ids,
            status=ReminderStatus.SENT,
            attempts=count,
            medium=medium,
            language=language,
            sent_at=now,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )


async def _record_failures(
    session: AsyncSession,
    failed: list[tuple[ReminderMessage, Delivery]],
    attempts: dict[Any, int],
    settings: Settings,
    now: Any,
) -> Counter[str]:
    outcome: Counter[str] = Counter()
    params = []
    for message, failure in failed:
        assert failure is not None
        reminder_id = message.reminder_id
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
                "b_medium": message.medium.value,
                "b_language": message.language.value,
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
                medium=bindparam("b_medium"),
                language=bindparam("b_language"),
                updated_at=now,
            )
        )
        await session.execute(stmt, params)
    return outcome
