"""Patient chunks: validate every row, then count duplicates and store the new ones set-based.

An NHS number already stored, or seen earlier in the same file, is a duplicate, in both modes.
An import writes a whole chunk in one statement (PostgreSQL: ``unnest`` arrays into
``INSERT … ON CONFLICT DO NOTHING``, so concurrent chunks and API calls can never store a
number twice); SQLite, one writer at a time, inserts the rows it found new.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert

from domain.clock import utcnow
from domain.dialects import takes_arrays
from domain.jobs.keys import CLAIM_KEYS_PG, claim_keys, driver, existing
from domain.jobs.outcome import ChunkOutcome
from domain.jobs.readers import Row
from domain.jobs.validate import check_patient
from domain.models import Patient
from domain.rules import search_key
from domain.rules.dates import today_in_london
from domain.sql import Query, SqlRunner

PATIENT = cast("Table", Patient.__table__)
COLUMNS = (
    "nhs_number",
    "name",
    "name_search",
    "date_of_birth",
    "postcode",
    "email",
    "phone",
    "reminder_preference",
    "language",
)
INSERT_PATIENTS_PG = """
INSERT INTO patient (
    nhs_number, name, name_search, date_of_birth, postcode, email, phone, reminder_preference, language,
    created_at, updated_at
)
SELECT r.*, $10, $10 FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]
) AS r ON CONFLICT (nhs_number) DO NOTHING
"""
# Built from constant SQL only.
COUNT_FRESH_PG = f"""
WITH claimed AS ({CLAIM_KEYS_PG})
SELECT count(*) FROM claimed WHERE NOT EXISTS (SELECT 1 FROM patient WHERE patient.nhs_number = claimed.key)
"""  # noqa: S608
INSERT_PATIENT_SQLITE = Query(
    insert(PATIENT).values({name: bindparam(name) for name in (*COLUMNS, "created_at", "updated_at")})
)


def check_rows(rows: Sequence[Row]) -> tuple[list[dict[str, Any]], ChunkOutcome]:
    """Apply the patient rules to every row (no database): the valid rows' values, and the rest."""
    valid: list[dict[str, Any]] = []
    outcome = ChunkOutcome()
    today = today_in_london()
    for row in rows:
        checked = row.errors if row.data is None else check_patient(row.data, today)
        if isinstance(checked, dict):
            valid.append(checked)
        else:
            outcome.reject(row.number, checked)
    return valid, outcome


async def settle(
    sql: SqlRunner, job_id: uuid.UUID, importing: bool, valid: Sequence[dict[str, Any]], outcome: ChunkOutcome
) -> None:
    """Count the duplicates among the valid rows and, importing, store the others."""
    outcome.valid += len(valid)
    if not valid:
        return
    if importing:
        imported = await _insert(sql, valid)
        outcome.imported += imported
        outcome.duplicates += len(valid) - imported
        return
    numbers = [values["nhs_number"] for values in valid]
    if takes_arrays(sql.dialect):
        # One round trip: claim the numbers for this job, count the new ones not stored yet.
        fresh = await (await driver(sql)).fetchval(COUNT_FRESH_PG, job_id, sorted(set(numbers)))
    else:
        new = await claim_keys(sql, job_id, numbers)
        fresh = len(new - await existing(sql, PATIENT.c.nhs_number, new))
    outcome.duplicates += len(valid) - int(fresh)


async def _insert(sql: SqlRunner, valid: Sequence[dict[str, Any]]) -> int:
    now = utcnow()
    if takes_arrays(sql.dialect):
        # Sorted (stable, so the file's first of equal numbers stays first): concurrent chunks then
        # take their row locks in the same order and cannot deadlock on numbers they share.
        ordered = sorted(valid, key=itemgetter("nhs_number"))
        columns = [
            [search_key(values["name"]) for values in ordered]
            if name == "name_search"
            else [values[name] for values in ordered]
            for name in COLUMNS
        ]
        status = await (await driver(sql)).execute(INSERT_PATIENTS_PG, *columns, now)
        return int(status.rsplit(" ", 1)[-1])
    taken = await existing(sql, PATIENT.c.nhs_number, (values["nhs_number"] for values in valid))
    rows = []
    for values in valid:
        if values["nhs_number"] not in taken:
            taken.add(values["nhs_number"])
            rows.append({**values, "name_search": search_key(values["name"]), "created_at": now, "updated_at": now})
    if rows:
        await sql.execute_many(INSERT_PATIENT_SQLITE, rows)
    return len(rows)
