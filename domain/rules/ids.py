"""Identifiers: UUIDs as PANDA reads them from paths, bodies, filters and receipts."""

from __future__ import annotations

import re
import uuid
from typing import Any

from domain.errors import NotFound, RuleViolation

# The forms a UUID is written in: 32 hex digits, grouped 8-4-4-4-12 by hyphens or not, in braces
# or not, after ``urn:uuid:`` or not. Nothing else: ``uuid.UUID`` alone reads its text through
# ``int(…, 16)``, which also takes other scripts' digits (``١١١…`` named ``11111111-…``), a sign,
# ``0x`` and underscores, so ``+111…`` named ``01111111-…``.
_UUID = re.compile(
    r"(?:urn:uuid:)?(\{)?[0-9a-fA-F]{8}(-?)[0-9a-fA-F]{4}\2[0-9a-fA-F]{4}\2[0-9a-fA-F]{4}\2[0-9a-fA-F]{12}(?(1)\})"
)


def read_uuid(raw: str) -> uuid.UUID:
    """``raw`` (surrounding spaces aside) as a UUID in one of the forms above; ``ValueError`` otherwise:
    an id is read one way or refused, as every number PANDA reads."""
    text = raw.strip()
    if _UUID.fullmatch(text) is None:
        raise ValueError("not a UUID")
    return uuid.UUID(text)


def check_uuid(raw: Any) -> uuid.UUID:
    """An id in a body or a query parameter: a UUID, or the rule violation ``id.format``."""
    if not isinstance(raw, str):
        raise RuleViolation("id.format")
    try:
        return read_uuid(raw)
    except ValueError:
        raise RuleViolation("id.format") from None


def parse_uuid(raw: str, code: str) -> uuid.UUID:
    """An id in a path: a UUID, or 404 ``code`` (a path that is no id names nothing)."""
    try:
        return read_uuid(raw)
    except ValueError:
        raise NotFound(code) from None
