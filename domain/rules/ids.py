"""Identifiers: UUIDs as PANDA reads them from paths, bodies, filters and receipts."""

from __future__ import annotations

import uuid


def read_uuid(raw: str) -> uuid.UUID:
    """``raw`` as a UUID, in any form ``uuid.UUID`` reads (hyphens or none, braces, ``urn:uuid:``),
    in ASCII only; ``ValueError`` otherwise.

    ``uuid.UUID`` alone also reads other scripts' digits (it goes through ``int()``), so
    ``١١١…`` would name ``11111111-…``: an id is read one way or refused, as every number is.
    """
    if not raw.isascii():
        raise ValueError("a UUID is written in ASCII")
    return uuid.UUID(raw)
