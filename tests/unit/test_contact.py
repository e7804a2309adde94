"""Contact details for reminders: e-mail syntax (no DNS), UK or E.164 phone numbers."""

from __future__ import annotations

import pytest

from domain.errors import RuleViolation
from domain.rules import normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ann@example.org", "ann@example.org"),
        ("  ann.smith+nhs@example.co.uk ", "ann.smith+nhs@example.co.uk"),
        ("Ann@EXAMPLE.org", "Ann@example.org"),
    ],
)
def test_valid_email_is_normalised(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "ann", "ann@", "@example.org", "ann@@example.org", "ann smith@example.org", None, 42]
)
def test_invalid_email_is_rejected(raw: object) -> None:
    with pytest.raises(RuleViolation) as caught:
        normalise_email(raw)
    assert caught.value.code == "email.format"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900123", "+447700900123"),  # UK national form (Ofcom drama range)
        ("07700900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("020 7946 0000", "+442079460000"),
        ("+33 1 23 45 67 89", "+33123456789"),  # any country in E.164
    ],
)
def test_uk_or_e164_phone_is_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "call me", "123", "0770090012345678", "+44", None, 447700900123])
def test_invalid_phone_is_rejected(raw: object) -> None:
    with pytest.raises(RuleViolation) as caught:
        normalise_phone(raw)
    assert caught.value.code == "phone.format"
