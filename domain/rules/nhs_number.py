"""NHS number: ten digits passing the modulus-11 check digit, nothing more.

The ``nhs-number`` package's ``is_valid`` also rejects Scottish CHI numbers without a real
date of birth, which the client's data contains; the contract asks for the checksum alone.
"""

from __future__ import annotations

import re
from typing import Any

from nhs_number.validate import calculate_checksum

from domain.errors import RuleViolation

_SEPARATORS = re.compile(r"[\s\-]")
_TEN_DIGITS = re.compile(r"[0-9]{10}")


def normalise_nhs_number(raw: Any) -> str:
    """Return the ten digits of ``raw`` (spaces and dashes removed) if the check digit is right."""
    if not isinstance(raw, str):
        raise RuleViolation("nhs_number.type")
    digits = _SEPARATORS.sub("", raw)
    if not _TEN_DIGITS.fullmatch(digits):
        raise RuleViolation("nhs_number.format")
    if calculate_checksum(digits[:9]) != int(digits[9]):
        raise RuleViolation("nhs_number.checksum")
    return digits
