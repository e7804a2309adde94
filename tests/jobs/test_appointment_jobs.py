"""Appointment files and the client's example files through ``/jobs``: the booking rules, in bulk."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from panda.examples import example_rows
from tests.jobs.helpers import errors, run_job

pytestmark = pytest.mark.usefixtures("engine")

APPOINTMENT_FIELDS = ["id", "patient", "status", "time", "duration", "clinician", "department", "postcode"]
PATIENTS = [
    {"nhs_number": "9434765919", "name": "Ann Lee", "date_of_birth": "1970-01-01", "postcode": "N6 2FA"},
    {"nhs_number": "1373645350", "name": "Bo Li", "date_of_birth": "1980-01-01", "postcode": "N6 2FA"},
]


def at(days: float) -> str:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0, second=0, minute=0) + dt.timedelta(days=days)
    return start.isoformat()


def appointment(**fields: Any) -> dict[str, Any]:
    row = {"patient": "9434765919", "time": at(2), "duration": "1h", "clinician": "Dr A", "department": "oncology"}
    return {**row, "postcode": "N6 2FA", **fields}


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


async def load_patients(client, sessions, settings) -> None:
    job = await run_job(client, sessions, settings, "patients", "import", ndjson(PATIENTS), "ndjson")
    assert job["imported"] == len(PATIENTS)


def booking_file() -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    first_id = str(uuid.uuid4())
    rows = [
        appointment(id=first_id),
        appointment(patient="1373645350", clinician=" dr a ", time=at(2.02)),
        appointment(patient="0021403597"),
        appointment(status="attended", time=at(5)),
        appointment(duration="13h", time="2030-01-01T10:00:00"),
        appointment(id=first_id),
        appointment(clinician="Dr B", time=at(2.03)),
        appointment(time=at(-30)),
    ]
    expected = [
        (2, "time", "appointment.clinician_overlap"),
        (3, "patient", "patient.unknown"),
        (4, "status", "status.attended_in_future"),
        (5, "time", "time.offset_required"),
        (5, "duration", "duration.range"),
        (7, "time", "appointment.patient_overlap"),
    ]
    return rows, expected


@pytest.mark.parametrize("mode", ["validate", "import"])
async def test_booking_rules_apply_to_every_row(client, sessions, settings, mode: str) -> None:
    await load_patients(client, sessions, settings)
    rows, expected = booking_file()

    job = await run_job(client, sessions, settings, "appointments", mode, ndjson(rows), "ndjson")

    imported = 2 if mode == "import" else 0
    assert (job["status"], job["total"], job["valid"], job["invalid"]) == ("succeeded", 8, 3, 5)
    assert (job["duplicates"], job["imported"]) == (1, imported)
    assert [(e["row"], e["field"], e["code"]) for e in await errors(client, job["id"])] == expected
    assert (await client.get("/appointments")).json()["total"] == imported


async def test_imported_appointments_are_booked_as_the_api_books_them(client, sessions, settings) -> None:
    await load_patients(client, sessions, settings)
    rows, _expected = booking_file()
    await run_job(client, sessions, settings, "appointments", "import", ndjson(rows), "ndjson")

    listed = (await client.get("/appointments")).json()["items"]
    future, past = sorted(listed, key=lambda item: item["time"], reverse=True)
    assert (future["id"], future["status"], future["clinician"]) == (rows[0]["id"], "active", "Dr A")
    assert past["status"] == "missed"  # a past "active" row is stored as missed
    reminders = (await client.get(f"/appointments/{future['id']}/reminders")).json()
    assert reminders["total"] >= 1 and {r["status"] for r in reminders["items"]} == {"scheduled"}
    assert (await client.get(f"/appointments/{past['id']}/reminders")).json()["total"] == 0


async def test_rows_without_an_id_are_not_imported_twice(client, sessions, settings) -> None:
    await load_patients(client, sessions, settings)
    rows = [appointment(time=at(-3)), appointment(time=at(-2), status="attended")]

    first = await run_job(client, sessions, settings, "appointments", "import", ndjson(rows), "ndjson")
    second = await run_job(client, sessions, settings, "appointments", "import", ndjson(rows), "ndjson")

    assert (first["imported"], first["duplicates"]) == (2, 0)
    assert (second["imported"], second["duplicates"]) == (0, 2)
    assert (await client.get("/appointments")).json()["total"] == 2


async def test_a_row_overlapping_a_stored_appointment_is_invalid(client, sessions, settings) -> None:
    await load_patients(client, sessions, settings)
    booked = await client.post("/appointments", json=appointment())
    assert booked.status_code == 201, booked.text
    rows = [appointment(patient="1373645350", time=at(2.01))]

    for mode in ("validate", "import"):
        job = await run_job(client, sessions, settings, "appointments", mode, ndjson(rows), "ndjson")
        assert (job["valid"], job["invalid"], job["imported"]) == (0, 1, 0)
        assert [e["code"] for e in await errors(client, job["id"])] == ["appointment.clinician_overlap"]


async def test_the_client_example_files_validate_cleanly_and_import_completely(client, sessions, settings) -> None:
    patients = json.dumps(example_rows("example_patients.json")).encode()
    appointments = json.dumps(example_rows("example_appointments.json")).encode()

    checked = await run_job(client, sessions, settings, "patients", "validate", patients, "json")
    stored = await run_job(client, sessions, settings, "patients", "import", patients, "json")
    checked_appointments = await run_job(client, sessions, settings, "appointments", "validate", appointments, "json")
    stored_appointments = await run_job(client, sessions, settings, "appointments", "import", appointments, "json")

    assert (checked["total"], checked["valid"], checked["invalid"]) == (100, 100, 0)
    assert (stored["imported"], stored["duplicates"]) == (100, 0)
    assert (checked_appointments["total"], checked_appointments["valid"], checked_appointments["invalid"]) == (
        100,
        100,
        0,
    )
    assert (stored_appointments["imported"], stored_appointments["duplicates"]) == (100, 0)
    assert (await client.get("/patients?limit=1")).json()["total"] == 100
    assert (await client.get("/appointments?limit=1")).json()["total"] == 100


# PostgreSQL only: SQLite has no exclusion constraints; it serialises writers instead.
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_the_database_constraint_catches_an_overlap_the_pre_check_missed(
    client, sessions, settings, backend: str
) -> None:
    """A concurrent writer can book between the chunk's check and its insert: PostgreSQL still refuses."""
    from domain.inputs import AppointmentCreate, parse_input
    from domain.jobs.appointments import Booking, _store
    from domain.jobs.outcome import ChunkOutcome
    from domain.rules import Status
    from domain.rules.booking import plan_booking
    from domain.rules.reminders import ReminderPolicy
    from domain.sql import SessionRunner

    await load_patients(client, sessions, settings)
    assert (await client.post("/appointments", json=appointment())).status_code == 201
    data = parse_input(AppointmentCreate, appointment(patient="1373645350", time=at(2.01)))
    async with sessions() as session, session.begin():
        found = await session.execute(text("SELECT id FROM patient WHERE nhs_number = '1373645350'"))
        now = dt.datetime.now(dt.UTC)
        plan = plan_booking(Status.ACTIVE, data.time, data.duration, now, ReminderPolicy())
        booking = Booking(1, data, uuid.uuid4(), plan, found.scalar_one())
        outcome = ChunkOutcome(valid=1)
        await _store(SessionRunner(session), [booking], now, ReminderPolicy(), outcome)

    assert (outcome.valid, outcome.invalid, outcome.imported) == (0, 1, 0)
    assert [(e.field, e.code) for _row, e in outcome.errors] == [("time", "appointment.clinician_overlap")]
