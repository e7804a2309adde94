"""How a patient wants reminders (SPEC §11): by e-mail, by SMS or not at all, and in which language.

Plain rules, no I/O. The medium is chosen at dispatch from the patient's current details, so a
changed preference or contact detail applies to every reminder not yet sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import phonenumbers

from domain.errors import RuleViolation
from domain.rules.choices import parse_choice


class ReminderPreference(StrEnum):
    """What the patient chose; absent (``None``) means the default rule of :func:`choose_medium`."""

    EMAIL = "email"
    SMS = "sms"
    NONE = "none"


class Medium(StrEnum):
    """How one reminder travels."""

    EMAIL = "email"
    SMS = "sms"


class Language(StrEnum):
    """The languages reminders are written in (the message catalogues hold both)."""

    ENGLISH = "en"
    WELSH = "cy"


DEFAULT_LANGUAGE = Language.ENGLISH
UK_COUNTRY_CODE = 44
# UK numbers beginning 07 are mobiles except 070 (personal numbering) and 076 (pagers) — but 07624
# is the Isle of Man's mobile range. That is the test GOV.UK Notify applies to an SMS recipient.
_NOT_MOBILE_PREFIXES = ("70", "76")
_MOBILE_EXCEPTIONS = ("7624",)


def parse_reminder_preference(raw: Any) -> ReminderPreference:
    """One of ``email``, ``sms``, ``none`` exactly."""
    return parse_choice(ReminderPreference, raw, "reminder_preference.invalid")


def parse_language(raw: Any) -> Language:
    """``en`` or ``cy`` exactly."""
    return parse_choice(Language, raw, "language.invalid")


def is_uk_mobile(phone: str | None) -> bool:
    """Whether ``phone`` (E.164 as stored, or UK national form) is a UK mobile number that can take an SMS.

    Possible rather than allocated numbers pass (Ofcom's drama range 07700 900xxx, as elsewhere).
    """
    if not phone:
        return False
    try:
        number = phonenumbers.parse(phone, "GB")
    except phonenumbers.NumberParseException:
        return False
    national = str(number.national_number)
    if number.country_code != UK_COUNTRY_CODE or len(national) != 10 or not national.startswith("7"):
        return False
    return national.startswith(_MOBILE_EXCEPTIONS) or not national.startswith(_NOT_MOBILE_PREFIXES)


def check_reminder_contact(preference: ReminderPreference | str | None, email: str | None, phone: str | None) -> None:
    """An explicit preference needs its contact detail: ``email`` an address, ``sms`` a UK mobile number.

    Raises :class:`RuleViolation` naming the missing detail (the field to correct is the contact).
    """
    if preference == ReminderPreference.EMAIL and not email:
        raise RuleViolation("email.required_for_reminders")
    if preference == ReminderPreference.SMS and not is_uk_mobile(phone):
        raise RuleViolation("phone.not_uk_mobile")


def usable_email(email: str | None, unusable: bool) -> bool:
    """An address is usable unless absent or marked unusable by a permanent delivery failure."""
    return bool(email) and not unusable


def usable_mobile(phone: str | None, unusable: bool) -> bool:
    """A phone takes an SMS when it is a UK mobile number not marked unusable."""
    return is_uk_mobile(phone) and not unusable


def choose_medium(
    preference: ReminderPreference | str | None,
    email: str | None,
    phone: str | None,
    *,
    email_unusable: bool = False,
    phone_unusable: bool = False,
) -> Medium | None:
    """The medium of a reminder for these details, or ``None`` when it cannot (or must not) go.

    An explicit preference is honoured strictly: a patient who chose SMS is never e-mailed
    instead. With no preference: e-mail if they have a usable address, else SMS to a usable UK
    mobile number, else nothing.
    """
    can_email = usable_email(email, email_unusable)
    can_text = usable_mobile(phone, phone_unusable)
    if preference == ReminderPreference.NONE:
        return None
    if preference == ReminderPreference.EMAIL:
        return Medium.EMAIL if can_email else None
    if preference == ReminderPreference.SMS:
        return Medium.SMS if can_text else None
    if can_email:
        return Medium.EMAIL
    return Medium.SMS if can_text else None


def reminder_language(stored: str | None) -> Language:
    """The stored language, English when absent or unknown (a reminder always has a text)."""
    try:
        return Language(stored) if stored else DEFAULT_LANGUAGE
    except ValueError:
        return DEFAULT_LANGUAGE
