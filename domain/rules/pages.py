"""How much of a list a request asks for: ``limit`` and ``offset`` as the query string gives them.

Each is a plain decimal number: ASCII digits and nothing else (leading zeros are fine, ``05`` is 5).
Signs, spaces, decimal points, exponents, underscores and other scripts' digits are refused rather
than read one way or another (``1e2``, ``1.0``, ``+5``, ``٥``), so every client means the same page.
"""

from __future__ import annotations

from typing import Any

from domain.errors import RuleViolation

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Beyond any list PANDA holds; unbounded, a huge offset overflowed the database's integer (a 500).
MAX_OFFSET = 1_000_000_000


def parse_limit(raw: Any) -> int:
    """A page size from 1 to :data:`MAX_LIMIT`, else ``query.limit``."""
    return _whole_number(raw, 1, MAX_LIMIT, "query.limit")


def parse_offset(raw: Any) -> int:
    """How many items to skip, from 0 to :data:`MAX_OFFSET`, else ``query.offset``."""
    return _whole_number(raw, 0, MAX_OFFSET, "query.offset")


def _whole_number(raw: Any, low: int, high: int, code: str) -> int:
    # isdigit alone admits other scripts' digits and superscripts; isascii leaves 0-9 only.
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
        raise RuleViolation(code, max=high)
    significant = raw.lstrip("0")
    # A number longer than the bound never reaches int() (which refuses 4,300 digits and more).
    value = int(significant or "0") if len(significant) <= len(str(high)) else high + 1
    if not low <= value <= high:
        raise RuleViolation(code, max=high)
    return value
