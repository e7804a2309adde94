"""Recognising which database constraint refused a write, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError


def violated_constraint(exc: IntegrityError) -> str:
    """The constraint's name (PostgreSQL) or the failing columns (SQLite), lower-cased."""
    cause: BaseException | None = exc.orig
    while cause is not None:
        name = getattr(cause, "constraint_name", None)
        if name:
            return str(name).lower()
        cause = cause.__cause__
    return str(exc.orig).lower()
