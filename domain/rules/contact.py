"""Contact details for reminders: an e-mail address, a UK or E.164 phone number."""

from __future__ import annotations

from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.errors import RuleViolation


def normalise_email(raw: Any) -> str:
    """Check an e-mail address's syntax (no DNS look-up) and return its normalised form."""
    if not isinstance(raw, str):
        raise RuleViolation("email.format")
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise RuleViolation("email.format") from None


def normalise_phone(raw: Any) -> str:
    """Accept a UK number in national form or any number in E.164; return it as E.164.

    Possible rather than allocated numbers pass: Ofcom's drama range (07700 900xxx) is used in tests.
    """
    if not isinstance(raw, str):
        raise RuleViolation("phone.format")
    try:
        number = phonenumbers.parse(raw.strip(), "GB")
    except phonenumbers.NumberParseException:
        raise RuleViolation("phone.format") from None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise RuleViolation("phone.format")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
