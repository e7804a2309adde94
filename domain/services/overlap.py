"""The no-overlap rule on the embedded database, where no exclusion constraint exists.

PostgreSQL enforces it with exclusion constraints (see the initial migration) and this check
is skipped there; SQLite runs every write transaction as ``BEGIN IMMEDIATE``, so checking and
then writing inside one transaction cannot interleave with another booking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select

from domain.errors import Conflict
from domain.models import Appointment, table
from domain.rules import Status
from domain.sql import Query, SqlRunner

APPOINTMENT = table(Appointment)


def _overlapping(column: str) -> Query:
    col = APPOINTMENT.c
    return Query(
        select(col.id)
        .where(
            col[column] == bindparam("owner"),
            col.status == Status.ACTIVE.value,
            col.starts_at < bindparam("ends_at"),
            col.ends_at > bindparam("starts_at"),
            col.id != bindparam("id"),
        )
        .limit(1)
    )


CHECKS = (
    ("clinician_id", _overlapping("clinician_id"), "appointment.clinician_overlap"),
    ("patient_id", _overlapping("patient_id"), "appointment.patient_overlap"),
)


async def ensure_no_overlap(sql: SqlRunner, candidate: Mapping[str, Any]) -> None:
    """Refuse ``candidate`` if an active appointment of its clinician or patient overlaps it."""
    if sql.dialect == "postgresql":
        return
    for column, query, code in CHECKS:
        if candidate.get(column) is None:
            continue
        params = {"owner": candidate[column], "starts_at": candidate["starts_at"], "ends_at": candidate["ends_at"]}
        if await sql.scalar(query, id=candidate["id"], **params) is not None:
            raise Conflict(code)
