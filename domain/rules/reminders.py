"""Reminder rules: which reminders an appointment gets, when, and what happens at dispatch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.rules.preferences import Language, Medium, ReminderPreference, choose_medium, reminder_language
from domain.rules.status import Status, effective_status


class ReminderStatus(StrEnum):
    """The states of a reminder, as the API shows them."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SkipReason(StrEnum):
    """Why a due reminder was not sent; stored in ``last_error``, never shown with patient data."""

    APPOINTMENT_GONE = "appointment.gone"
    APPOINTMENT_NOT_ACTIVE = "appointment.not_active"
    APPOINTMENT_STARTED = "appointment.started"
    NO_CONTACT = "contact.missing"
    OPTED_OUT = "patient.opted_out"


@dataclass(frozen=True)
class ReminderPolicy:
    """Which reminders a booking gets: offsets before the start (minutes) and the channel.

    Built from the settings by the composition roots (``Settings.reminder_policy``) and passed in.
    """

    offsets_minutes: tuple[int, ...] = (24 * 60, 2 * 60)
    channel: str = "outbox"


def plan_reminders(start: dt.datetime, now: dt.datetime, offsets_minutes: Iterable[int]) -> list[dt.datetime]:
    """Due times ``start - offset`` for each offset, earliest first, leaving out those already past."""
    due_times = {start - dt.timedelta(minutes=offset) for offset in offsets_minutes}
    return sorted(due for due in due_times if due > now)


def skip_reason(
    appointment_status: str | None, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> SkipReason | None:
    """Why a due reminder must not go out for this appointment, or ``None`` when it may.

    A reminder is only worth sending for an appointment that is still active and has not
    started: one that fell due while the system was down is still sent late until then.
    """
    if appointment_status is None or start is None or end is None:
        return SkipReason.APPOINTMENT_GONE
    if effective_status(appointment_status, end, now) is not Status.ACTIVE:
        return SkipReason.APPOINTMENT_NOT_ACTIVE
    if start <= now:
        return SkipReason.APPOINTMENT_STARTED
    return None


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> dt.timedelta:
    """Exponential back-off after the ``attempts``-th failed send: base, 2×base, 4×base… capped."""
    exponent = max(attempts - 1, 0)
    seconds = min(base_seconds * (2 ** min(exponent, 32)), max_seconds)
    return dt.timedelta(seconds=seconds)


def gives_up(attempts: int, max_attempts: int) -> bool:
    """After ``max_attempts`` failed sends a reminder is ``failed`` for good."""
    return attempts >= max_attempts


# Margin for the claim's commit, the thread hand-off and a slow database before the record
# (``REMINDER_LEASE_MARGIN_SECONDS``).
LEASE_MARGIN_SECONDS = 30.0


def lease_length(
    send_timeout_seconds: float, claim_size: int, margin_seconds: float = LEASE_MARGIN_SECONDS
) -> dt.timedelta:
    """How long claimed reminders stay out of every other drain's reach while they are sent.

    Each send is cut off at its deadline, so a batch cannot outlast the lease: a reminder is due
    again only when its drain died (or lost its database) between the claim and the record; it is
    then sent again with the same idempotency key, never lost.
    """
    return dt.timedelta(seconds=send_timeout_seconds * claim_size + margin_seconds)


def reminder_route(
    preference: str | None,
    language: str | None,
    email: str | None,
    phone: str | None,
    *,
    email_unusable: bool,
    phone_unusable: bool,
    media: frozenset[Medium],
) -> tuple[Medium, Language] | SkipReason:
    """How a due reminder goes, from the patient's details *now*: medium and language, or why it cannot.

    ``none`` is an opt-out (``patient.opted_out``); no usable detail for the chosen medium, or a
    medium the channel cannot carry (SMS through ``smtp``), is ``contact.missing``.
    """
    if preference == ReminderPreference.NONE:
        return SkipReason.OPTED_OUT
    medium = choose_medium(preference, email, phone, email_unusable=email_unusable, phone_unusable=phone_unusable)
    if medium is None or medium not in media:
        return SkipReason.NO_CONTACT
    return medium, reminder_language(language)
