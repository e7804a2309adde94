"""UK postcode coercion to the standard ``OUT IN`` form, by shape only (no directory)."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import RuleViolation

_WHITESPACE = re.compile(r"\s+")
# Outward A9, A99, AA9, AA99, A9A, AA9A; inward 9AA; or the special GIR 0AA.
_SHAPE = re.compile(r"(?:[A-Z][0-9]{1,2}|[A-Z]{2}[0-9]{1,2}|[A-Z]{1,2}[0-9][A-Z]) [0-9][A-Z]{2}|GIR 0AA")


def coerce_postcode(raw: Any) -> str:
    """Upper-case, drop all whitespace, put one space before the inward code, check the shape."""
    if not isinstance(raw, str):
        raise RuleViolation("postcode.type")
    compact = _WHITESPACE.sub("", raw)
    # Check ASCII before upper-casing: str.upper() turns "ſ" into "S" and "ß" into "SS",
    # which would silently coerce non-postcode text into a different, valid-looking postcode.
    if not compact.isascii():
        raise RuleViolation("postcode.format")
    compact = compact.upper()
    candidate = f"{compact[:-3]} {compact[-3:]}"
    if not _SHAPE.fullmatch(candidate):
        raise RuleViolation("postcode.format")
    return candidate
