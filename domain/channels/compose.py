"""The words of a reminder: the appointment's local time, department and place."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from domain.channels.base import ReminderMessage
from domain.messages import DEFAULT_LANGUAGE, message

LONDON = ZoneInfo("Europe/London")
WHEN_PATTERN = "EEEE d MMMM y 'at' HH:mm"


def local_time_text(instant: dt.datetime) -> str:
    """``Wednesday 4 June 2025 at 16:30``: the wall-clock time in Europe/London."""
    return format_datetime(instant, WHEN_PATTERN, tzinfo=LONDON, locale="en_GB")


def compose(
    reminder_id: uuid.UUID,
    appointment_id: uuid.UUID | None,
    starts_at: dt.datetime,
    department: str,
    postcode: str,
    email: str | None,
    phone: str | None,
) -> ReminderMessage:
    """The reminder for one appointment, in the catalogue's default language."""
    return ReminderMessage(
        reminder_id=reminder_id,
        appointment_id=appointment_id,
        starts_at=starts_at,
        email=email,
        phone=phone,
        subject=message("reminder.subject", DEFAULT_LANGUAGE),
        body=message(
            "reminder.body", DEFAULT_LANGUAGE, when=local_time_text(starts_at), department=department, postcode=postcode
        ),
    )
