"""The words of a reminder, in the patient's language: subject and body for e-mail, a short SMS text.

The texts come from the message catalogues (``reminder.subject``, ``reminder.body``,
``reminder.sms``); the time is the appointment's wall-clock time in Europe/London, written the
way the language writes dates. An SMS leaves out the name and clinician: it is short (one
160-character segment for typical department names in English) and shows on a locked screen.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from domain.channels.base import ReminderMessage
from domain.messages import message
from domain.rules.preferences import Language, Medium

LONDON = ZoneInfo("Europe/London")
# (babel locale, long pattern for e-mail, short pattern for SMS) per language.
DATE_STYLES: dict[Language, tuple[str, str, str]] = {
    Language.ENGLISH: ("en_GB", "EEEE d MMMM y 'at' HH:mm", "EEE d MMM 'at' HH:mm"),
    Language.WELSH: ("cy", "EEEE d MMMM y 'am' HH:mm", "EEE d MMM 'am' HH:mm"),
}


def local_time_text(instant: dt.datetime, language: Language = Language.ENGLISH, *, short: bool = False) -> str:
    """``Wednesday 4 June 2025 at 16:30`` (``Dydd Mercher 4 Mehefin 2025 am 16:30``): London wall-clock time."""
    locale, long_pattern, short_pattern = DATE_STYLES[language]
    return format_datetime(instant, short_pattern if short else long_pattern, tzinfo=LONDON, locale=locale)


def compose(
    reminder_id: uuid.UUID,
    appointment_id: uuid.UUID | None,
    starts_at: dt.datetime,
    *,
    medium: Medium,
    recipient: str,
    language: Language,
    name: str,
    clinician: str,
    department: str,
    postcode: str,
) -> ReminderMessage:
    """The reminder for one appointment, by ``medium`` to ``recipient``, in ``language``."""
    when = local_time_text(starts_at, language)
    if medium is Medium.SMS:
        body = message(
            "reminder.sms",
            language,
            when=local_time_text(starts_at, language, short=True),
            department=department,
            postcode=postcode,
        )
    else:
        body = message(
            "reminder.body",
            language,
            name=name,
            when=when,
            clinician=clinician,
            department=department,
            postcode=postcode,
        )
    return ReminderMessage(
        reminder_id=reminder_id,
        appointment_id=appointment_id,
        starts_at=starts_at,
        medium=medium,
        language=language,
        recipient=recipient,
        subject=message("reminder.subject", language),
        body=body,
        personalisation={
            "name": name,
            "time": when,
            "place": postcode,
            "clinician": clinician,
            "department": department,
        },
    )
