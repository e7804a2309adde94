"""Every problem status the OpenAPI schema documents is real: each one is produced, as a problem
document, by the request that should produce it.

Schemathesis proves the converse (nothing undocumented is answered); this proves the schema
promises nothing the API never does. A new operation must be added to ``VALID`` below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from api.app import create_app
from domain.config import Settings
from tests.factories import appointment_body, iso, nhs_number, now, patient_body
from tests.http.helpers import assert_problem, book, create_patient
from tests.http.timetable import create_schedule, london, london_day, schedule_body

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

SMALL_LIMIT = 2048  # bytes, for JSON bodies and uploads alike, so 413 needs no huge request
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
HOUR = dt.timedelta(hours=1)
CSV = {"content": b"nhs_number,name\n", "headers": {"content-type": "text/csv"}}


def valid_requests(patient: str, appointment: str) -> dict[tuple[str, str], dict[str, Any]]:
    """A request each operation accepts (given the seeded patient and appointment)."""
    later = now() + dt.timedelta(days=9)
    return {
        ("GET", "/patients"): {},
        ("POST", "/patients"): {"json": patient_body(nhs_number(40))},
        ("GET", "/patients/{nhs_number}"): {},
        ("PATCH", "/patients/{nhs_number}"): {"json": {"name": "Renamed"}},
        ("DELETE", "/patients/{nhs_number}"): {},
        ("GET", "/patients/{nhs_number}/appointments"): {},
        ("GET", "/appointments"): {},
        ("POST", "/appointments"): {"json": appointment_body(patient, later, clinician="Dr Other")},
        ("GET", "/appointments/{appointment_id}"): {},
        ("PATCH", "/appointments/{appointment_id}"): {"json": {"duration": "45m"}},
        ("DELETE", "/appointments/{appointment_id}"): {},
        ("GET", "/appointments/{appointment_id}/reminders"): {},
        ("GET", "/clinicians"): {},
        ("GET", "/departments"): {},
        ("GET", "/outbox"): {},
        ("GET", "/analytics/missed"): {},
        ("GET", "/insight"): {},
        ("GET", "/fhir/Patient/{nhs_number}"): {},
        ("GET", "/fhir/Appointment/{appointment_id}"): {},
        ("GET", "/health"): {},
        ("GET", "/ready"): {},
        ("POST", "/jobs"): {"params": {"kind": "patients", "mode": "validate"}, **CSV},
        ("GET", "/jobs/{job_id}"): {},
        ("GET", "/jobs/{job_id}/errors"): {},
        ("DELETE", "/jobs/{job_id}"): {},
        ("POST", "/schedules"): {"json": schedule_body(clinician="Dr Sessions")},
        ("GET", "/schedules"): {},
        ("GET", "/schedules/{schedule_id}"): {},
        ("PATCH", "/schedules/{schedule_id}"): {"json": {"end": "12:30"}},
        ("DELETE", "/schedules/{schedule_id}"): {},
        ("POST", "/unavailability"): {"json": {"clinician": "Dr Other", "from": iso(later), "to": iso(later + HOUR)}},
        ("GET", "/unavailability"): {},
        ("DELETE", "/unavailability/{unavailability_id}"): {},
        ("GET", "/slots"): {"params": {"department": "cardiology", "from": iso(later), "to": iso(later + HOUR)}},
        ("POST", "/slots/holds"): {"json": {"clinician": "Dr Held", "time": iso(later), "duration": "15m"}},
        ("DELETE", "/slots/holds/{hold_id}"): {},
        ("GET", "/fhir/Schedule/{schedule_id}"): {},
        ("GET", "/fhir/Slot"): {
            "params": [("schedule", "0" * 32), ("start", "ge2031-01-01"), ("start", "lt2031-01-08")]
        },
    }


def fill(path: str, values: dict[str, str]) -> str:
    """The path with its parameters replaced."""
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", value)
    return path


def problem_statuses(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation documents."""
    return {int(status) for status in operation["responses"] if int(status) >= 400}


def oversized(request: dict[str, Any]) -> dict[str, Any]:
    """The same request with a body over the limit, in the same content type."""
    if "content" not in request:
        return {**request, "json": {**request.get("json", {}), "padding": "x" * SMALL_LIMIT * 2}}
    return {**request, "content": request["content"] + b"x" * SMALL_LIMIT * 2}


def mistyped(request: dict[str, Any]) -> dict[str, Any]:
    """The same request with its body declared as plain text."""
    body = request.get("content", b"{}")
    return {key: value for key, value in request.items() if key != "json"} | {
        "content": body,
        "headers": {"content-type": "text/plain"},
    }


def invalid(operation: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The same request made invalid: a query parameter given twice, or a body that is no object."""
    query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    if query:
        return {**request, "params": [*dict(request.get("params", {})).items(), (query[0], "1"), (query[0], "1")]}
    return {key: value for key, value in request.items() if key != "json"} | {"json": [1, 2]}


@pytest.fixture
def small_limits(settings: Settings, tmp_path: Path) -> Settings:
    """Settings with small body limits and uploads under this test's directory."""
    return settings.model_copy(
        update={"max_json_body_bytes": SMALL_LIMIT, "max_upload_bytes": SMALL_LIMIT, "upload_dir": tmp_path / "up"}
    )


@pytest.fixture
async def limited_client(small_limits: Settings, engine: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with small body limits, on the emptied database."""
    async with AsyncTestClient(app=create_app(small_limits)) as client:
        yield client


@pytest.fixture
async def offline_client(small_limits: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with its database gone."""
    app = create_app(small_limits.model_copy(update={"database_url": UNREACHABLE_DATABASE}))
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_every_documented_problem_status_happens(limited_client, offline_client) -> None:
    client = limited_client
    schema = (await client.get("/schema/openapi.json")).json()
    patient = (await create_patient(client, nhs_number(41)))["nhs_number"]
    appointment = (await book(client, patient, now() + dt.timedelta(days=3)))["id"]
    requests = valid_requests(patient, appointment)
    operations = {(m.upper(), p): op for p, item in schema["paths"].items() for m, op in item.items()}
    assert set(operations) <= set(requests), f"add a valid request for {set(operations) - set(requests)}"
    later = now() + dt.timedelta(days=20)
    schedule = (await create_schedule(client, clinician="Dr Existing"))["id"]
    leave = {"clinician": "Dr Existing", "from": iso(later), "to": iso(later + HOUR)}
    unavailability = (await client.post("/unavailability", json=leave)).json()["id"]
    hold_body = {"clinician": "Dr Holding", "time": iso(later), "duration": "15m"}
    hold = (await client.post("/slots/holds", json=hold_body)).json()["id"]
    existing = {
        "nhs_number": patient,
        "appointment_id": appointment,
        "job_id": "0" * 32,
        "schedule_id": schedule,
        "unavailability_id": unavailability,
        "hold_id": hold,
    }
    malformed = dict.fromkeys(existing, "not-an-identifier")

    for (method, path), operation in sorted(operations.items()):
        documented = problem_statuses(operation)
        request = requests[(method, path)]
        checks: dict[int, Any] = {
            400: (client, path, existing, invalid(operation, request)),
            404: (client, path, malformed, request),
            413: (client, path, existing, oversized(request)),
            415: (client, path, existing, mistyped(request)),
            503: (offline_client, path, existing, request),
        }
        for status in sorted(documented - {409}):
            http, template, values, attempt = checks[status]
            response = await http.request(method, fill(template, values), **attempt)
            if path == "/ready":  # its 503 is its own report of what does not answer
                assert response.status_code == status, response.text
            else:
                assert_problem(response, status)
        if 503 not in documented:
            assert (await offline_client.request(method, fill(path, existing), **request)).status_code < 500


async def test_documented_conflicts_happen(limited_client, engine) -> None:
    client = limited_client
    schema = (await client.get("/schema/openapi.json")).json()
    conflicting = {
        (m.upper(), p) for p, item in schema["paths"].items() for m, op in item.items() if "409" in op["responses"]
    }
    triggered = {
        ("POST", "/patients"),
        ("POST", "/appointments"),
        ("PATCH", "/appointments/{appointment_id}"),
        ("DELETE", "/jobs/{job_id}"),
        ("POST", "/schedules"),
        ("PATCH", "/schedules/{schedule_id}"),
        ("POST", "/slots/holds"),
    }
    assert conflicting == triggered, "add a request that conflicts for each operation documenting 409"
    body = patient_body(nhs_number(42))
    await create_patient(client, body["nhs_number"])
    assert_problem(await client.post("/patients", json=body), 409, "patient.duplicate")
    booked = await book(client, body["nhs_number"], now() + dt.timedelta(days=2))
    again = appointment_body(body["nhs_number"], now() + dt.timedelta(days=4), id=booked["id"])
    assert_problem(await client.post("/appointments", json=again), 409, "appointment.duplicate_id")
    path = f"/appointments/{booked['id']}"
    assert (await client.patch(path, json={"status": "cancelled"})).status_code == 200
    assert_problem(await client.patch(path, json={"status": "cancelled"}), 409, "status.final")
    job = await client.post("/jobs", params={"kind": "patients", "mode": "validate"}, **CSV)
    assert job.status_code == 202, job.text
    async with engine.begin() as connection:  # as if a worker had finished it
        await connection.execute(text("UPDATE job SET status = 'succeeded' WHERE id = :id"), {"id": job.json()["id"]})
    assert_problem(await client.delete(f"/jobs/{job.json()['id']}"), 409, "job.not_cancellable")
    first = await create_schedule(client, weekdays=["mon"])
    assert_problem(await client.post("/schedules", json=schedule_body(weekdays=["mon"])), 409, "schedule.overlap")
    second = await create_schedule(client, weekdays=["tue"])
    clash = await client.patch(f"/schedules/{second['id']}", json={"weekdays": ["mon"]})
    assert_problem(clash, 409, "schedule.overlap")
    hold = {"clinician": first["clinician"], "time": iso(london(london_day(7), 9)), "duration": "30m"}
    hold["time"] = iso(london(london_day(7 + (7 - london_day(7).weekday()) % 7), 9))  # a Monday
    assert (await client.post("/slots/holds", json=hold)).status_code == 201
    assert_problem(await client.post("/slots/holds", json=hold), 409, "slot.taken")
