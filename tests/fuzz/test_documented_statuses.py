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
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from domain.auth.actor import Role
from domain.config import Settings
from domain.services import api_keys
from domain.sql import SessionRunner
from tests.factories import appointment_body, iso, nhs_number, now, patient_body
from tests.http.helpers import assert_problem, book, create_patient
from tests.http.timetable import create_schedule, london, london_day, schedule_body

ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"])

SMALL_LIMIT = 2048  # bytes, for JSON bodies and uploads alike, so 413 needs no huge request
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
HOUR = dt.timedelta(hours=1)
CSV = {"content": b"nhs_number,name\n", "headers": {"content-type": "text/csv"}}
# Statuses that need a live server and clients held mid-request; the named test produces them.
PRODUCED_ELSEWHERE = {
    (
        "POST",
        "/jobs",
        429,
    ): "tests/jobs/test_upload_limits.py::test_more_uploads_than_allowed_at_once_are_429_with_retry_after",
}


CALLBACK_TOKEN = "documented-statuses"
CALLBACK_AUTH = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}


def receipt_request(reference: str) -> dict[str, Any]:
    """A Notify delivery receipt naming ``reference``, with the callback's token."""
    body = {"id": "n-1", "reference": reference, "status": "delivered", "notification_type": "email"}
    return {"json": body, "headers": CALLBACK_AUTH}


def valid_requests(patient: str, appointment: str, reminder: str = "") -> dict[tuple[str, str], dict[str, Any]]:
    """A request each operation accepts (given the seeded patient, appointment and one of its reminders)."""
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
        ("GET", "/audit"): {},
        ("GET", "/appointments/{appointment_id}/history"): {},
        ("GET", "/fhir/AuditEvent/{event_id}"): {},
        ("POST", "/callbacks/notify"): receipt_request(reminder),
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


# Routes only an auditor (or admin) may call: their 403 is shown with another role's key.
AUDITOR_ONLY = {"/audit", "/appointments/{appointment_id}/history", "/fhir/AuditEvent/{event_id}"}


# Problems an operation produces other than through its path or body shape: the request that does.
SPECIAL_REQUESTS: dict[tuple[str, str], dict[int, dict[str, Any]]] = {
    ("POST", "/callbacks/notify"): {
        401: {"json": {}, "headers": {"Authorization": "Bearer wrong"}},
        404: receipt_request("00000000-0000-0000-0000-000000000000"),
        415: {"content": b"{}", "headers": {**CALLBACK_AUTH, "content-type": "text/plain"}},
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
        update={
            "max_json_body_bytes": SMALL_LIMIT,
            "max_upload_bytes": SMALL_LIMIT,
            "upload_dir": tmp_path / "up",
            "notify_callback_token": CALLBACK_TOKEN,
        }
    )


@pytest.fixture
async def limited_client(small_limits: Settings, engine: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with small body limits, on the emptied database."""
    async with AsyncTestClient(app=create_app(small_limits)) as client:
        yield client


@pytest.fixture
async def guarded_client(small_limits: Settings, limited_client: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The same API and database with AUTH_MODE=on (for 401 and 403)."""
    async with AsyncTestClient(app=create_app(small_limits.model_copy(update={"auth_mode": "on"}))) as client:
        yield client


async def role_keys(engine: Any) -> dict[str, dict[str, str]]:
    """``Authorization`` headers of an auditor's key and a booking system's key."""
    headers = {}
    for role in (Role.AUDITOR, Role.BOOKING):
        async with AsyncSession(engine, expire_on_commit=False) as session:
            _info, secret = await api_keys.create_key(SessionRunner(session), role.value, frozenset({role}))
        headers[role.value] = {"Authorization": f"Bearer {secret}"}
    return headers


@pytest.fixture
async def full_disk_client(small_limits: Settings, engine: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with more free disk space demanded than any disk has."""
    app = create_app(small_limits.model_copy(update={"min_free_disk_bytes": 10**18}))
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def offline_client(small_limits: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with its database gone."""
    app = create_app(small_limits.model_copy(update={"database_url": UNREACHABLE_DATABASE}))
    async with AsyncTestClient(app=app) as client:
        yield client


@ON_POSTGRESQL
async def test_every_documented_problem_status_happens(
    limited_client, offline_client, full_disk_client, guarded_client, engine
) -> None:
    client = limited_client
    keys = await role_keys(engine)
    # With auth on, the schema documents 401 and 403 besides what every deployment answers.
    schema = (await guarded_client.get("/schema/openapi.json")).json()
    patient = (await create_patient(client, nhs_number(41)))["nhs_number"]
    appointment = (await book(client, patient, now() + dt.timedelta(days=3)))["id"]
    reminder = (await client.get(f"/appointments/{appointment}/reminders")).json()["items"][0]["id"]
    requests = valid_requests(patient, appointment, reminder)
    operations = {(m.upper(), p): op for p, item in schema["paths"].items() for m, op in item.items()}
    assert set(operations) <= set(requests), f"add a valid request for {set(operations) - set(requests)}"
    event = (await client.get("/audit", params={"limit": 1})).json()["items"][0]["id"]
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
        "event_id": event,
    }
    malformed = dict.fromkeys(existing, "not-an-identifier")

    for (method, path), operation in sorted(operations.items()):
        documented = problem_statuses(operation)
        request = requests[(method, path)]
        other = keys["booking" if path in AUDITOR_ONLY else "auditor"]
        checks: dict[int, Any] = {
            400: (client, path, existing, invalid(operation, request)),
            404: (client, path, malformed, request),
            413: (client, path, existing, oversized(request)),
            415: (client, path, existing, mistyped(request)),
            503: (offline_client, path, existing, request),
            507: (full_disk_client, path, existing, request),
            401: (guarded_client, path, existing, request),
            403: (guarded_client, path, existing, {**request, "headers": {**request.get("headers", {}), **other}}),
        }
        for status, special in SPECIAL_REQUESTS.get((method, path), {}).items():
            checks[status] = (client, path, existing, special)
        for status in sorted(documented - {409}):
            if (method, path, status) in PRODUCED_ELSEWHERE:
                continue
            http, template, values, attempt = checks[status]
            response = await http.request(method, fill(template, values), **attempt)
            if path == "/ready":  # its 503 is its own report of what does not answer
                assert response.status_code == status, response.text
            else:
                assert_problem(response, status)
        if 503 not in documented:
            assert (await offline_client.request(method, fill(path, existing), **request)).status_code < 500


@ON_POSTGRESQL
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


def test_statuses_produced_elsewhere_name_real_tests() -> None:
    root = Path(__file__).parents[2]
    for reference in PRODUCED_ELSEWHERE.values():
        path, name = reference.split("::")
        assert f"def {name}(" in (root / path).read_text(), reference
