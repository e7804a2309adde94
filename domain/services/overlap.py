"""The no-overlap rule on the embedded database, where no exclusion constraint exists.

PostgreSQL enforces it with exclusion constraints (see the initial migration) and this check
is skipped there; SQLite runs every write transaction as ``BEGIN IMMEDIATE``, so checking and
then writing inside one transaction cannot interleave with another booking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict
from domain.models import Appointment
from domain.rules import Status

APPOINTMENT = Appointment.__table__


async def ensure_no_overlap(session: AsyncSession, candidate: Mapping[str, Any]) -> None:
    """Refuse ``candidate`` if an active appointment of its clinician or patient overlaps it."""
    if session.get_bind().dialect.name == "postgresql":
        return
    col = APPOINTMENT.c
    overlapping = (
        col.status == Status.ACTIVE,
        col.starts_at < candidate["ends_at"],
        col.ends_at > candidate["starts_at"],
        col.id != candidate["id"],
    )
    checks = [("clinician_id", "appointment.clinician_overlap"), ("patient_id", "appointment.patient_overlap")]
    for column, code in checks:
        if candidate.get(column) is None:
            continue
        stmt = select(col.id).where(col[column] == candidate[column], *overlapping).limit(1)
        if (await session.execute(stmt)).first() is not None:
            raise Conflict(code)
