"""Appointment durations: ``15m``, ``1h30m``, ``90m`` or ISO 8601 ``PT1H30M``; 1 minute to 12 hours."""

from __future__ import annotations

import re
from typing import Any

from domain.errors import RuleViolation

MIN_MINUTES = 1
MAX_MINUTES = 12 * 60

# ASCII only: ``\d`` would take any script's digits (``٩٠m``, which ``int()`` reads as 90), and a
# Unicode IGNORECASE would take ``ſ`` for ``s``.
_SHORT = re.compile(r"(?:(?P<h>[0-9]+)\s*h)?\s*(?:(?P<m>[0-9]+)\s*m)?", re.IGNORECASE | re.ASCII)
_ISO = re.compile(r"PT(?:(?P<h>[0-9]+)H)?(?:(?P<m>[0-9]+)M)?(?:(?P<s>[0-9]+)S)?", re.IGNORECASE | re.ASCII)


def parse_minutes(raw: Any) -> int:
    """Read the duration syntax (``1h30m``, ``90m``, ``PT1H30M``) as whole minutes, any length."""
    if not isinstance(raw, str):
        raise RuleViolation("duration.format")
    text = raw.strip()
    match = _SHORT.fullmatch(text) or _ISO.fullmatch(text)
    if not text or match is None or not any(match.groupdict().values()):
        raise RuleViolation("duration.format")
    parts = match.groupdict()
    try:
        seconds = int(parts["h"] or 0) * 3600 + int(parts["m"] or 0) * 60 + int(parts.get("s") or 0)
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits)
        raise RuleViolation("duration.format") from None
    if seconds % 60:
        raise RuleViolation("duration.format")
    return seconds // 60


def parse_duration(raw: Any) -> int:
    """An appointment's duration in minutes, from 1 minute to 12 hours inclusive."""
    minutes = parse_minutes(raw)
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise RuleViolation("duration.range", min="1m", max="12h")
    return minutes


def format_duration(minutes: int) -> str:
    """Write minutes in the ``1h30m`` style: ``45m``, ``2h``, ``1h30m``."""
    hours, rest = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")
