"""The ceiling: a bare Litestar app doing the same single-row insert or select on a raw asyncpg pool.

No validation, no ORM, no logging: what the framework and the driver cost on their own.
Run with ``uvicorn bench.ceiling:app`` and ``CEILING_DSN=postgresql://...``.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from litestar import Litestar, Request, get, post

POOL: dict[str, asyncpg.Pool] = {}


async def open_pool() -> None:
    POOL["db"] = await asyncpg.create_pool(os.environ["CEILING_DSN"], min_size=10, max_size=20)


async def close_pool() -> None:
    await POOL["db"].close()


@post("/patients")
async def create_patient(data: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    await POOL["db"].execute(
        "INSERT INTO patient (nhs_number, name, name_search, date_of_birth, postcode, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $6)",
        data["nhs_number"],
        data["name"],
        data["name"].casefold(),
        date.fromisoformat(data["date_of_birth"]),
        data["postcode"],
        now,
    )
    return data


@get("/patients/{nhs_number:str}")
async def read_patient(nhs_number: str) -> dict[str, Any]:
    row = await POOL["db"].fetchrow("SELECT * FROM patient WHERE nhs_number = $1", nhs_number)
    return {"nhs_number": row["nhs_number"], "name": row["name"], "postcode": row["postcode"]}


@post("/appointments")
async def create_appointment(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    # The row PANDA stores for this request, found and inserted by one statement: an active booking
    # of the patient with the clinician and department named, so that the same keys and no-overlap
    # constraints are checked. No timetable, reminders or audit event.
    start = datetime.fromisoformat(data["time"])
    now = datetime.now(UTC)
    status = await POOL["db"].execute(
        "INSERT INTO appointment (id, patient_id, clinician_id, department_id, status, starts_at, ends_at,"
        " duration_minutes, postcode, created_at, updated_at)"
        " SELECT $1, p.id, c.id, d.id, 'active', $2, $3, 15, $4, $5, $5"
        " FROM patient p, clinician c, department d"
        " WHERE p.nhs_number = $6 AND c.name_key = $7 AND d.name_key = $8",
        uuid.uuid4(),
        start,
        start + timedelta(minutes=15),
        data["postcode"],
        now,
        data["patient"],
        data["clinician"].casefold(),
        data["department"].casefold(),
    )
    if status != "INSERT 0 1":  # a name not found: count it as a failed request, not a booking
        raise RuntimeError("no such patient, clinician or department")
    return data


@get("/appointments/{appointment_id:str}")
async def read_appointment(appointment_id: str) -> dict[str, Any]:
    row = await POOL["db"].fetchrow("SELECT * FROM appointment WHERE id = $1", uuid.UUID(appointment_id))
    return {"id": str(row["id"]), "status": row["status"], "time": row["starts_at"].isoformat()}


app = Litestar(
    [create_patient, read_patient, create_appointment, read_appointment],
    on_startup=[open_pool],
    on_shutdown=[close_pool],
)
