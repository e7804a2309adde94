"""The audit trail is complete: every request that touches patient data, and every refused one,
leaves exactly one event naming who, what, which patient, how it ended and the request id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar.routes import HTTPRoute

from api.audit import declared_audit
from tests.auth.conftest import Keys
from tests.factories import appointment_body, nhs_number, now, patient_body

P, NEW = nhs_number(0), nhs_number(1)


async def events_of(client: Any, keys: Keys, response: Any) -> list[dict[str, Any]]:
    """The audit events carrying ``response``'s request id (read through ``GET /audit`` by an auditor)."""
    page = (await client.get("/audit", params={"limit": 500}, headers=keys.header("auditor"))).json()
    return [e for e in page["items"] if e["request_id"] == response.headers["x-request-id"]]


def audited_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route that declares an audit event."""
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if declared_audit(handler) is not None
        for method in handler.http_methods - {"OPTIONS", "HEAD"}
    }


async def test_every_route_touching_patient_data_leaves_exactly_one_event(app, client, keys: Keys) -> None:
    book = keys.header("booking")
    created = await client.post("/patients", json=patient_body(P), headers=book)
    start = (now() + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0)
    appointment = await client.post("/appointments", json=appointment_body(P, start), headers=book)
    assert created.status_code == 201 and appointment.status_code == 201, appointment.text
    a = appointment.json()["id"]
    job = await client.post(
        "/jobs?kind=patients&mode=validate",
        content=b"nhs_number,name,date_of_birth,postcode\r\n123,x,1980-01-01,N6 2FA\r\n",
        headers={"Content-Type": "text/csv", **keys.header("ops")},
    )
    assert job.status_code == 202, job.text
    j = job.json()["id"]

    # (method, route template): (the request, its key, the event it must leave)
    cases: dict[tuple[str, str], tuple[tuple[str, str, dict[str, Any]], str, dict[str, Any]]] = {
        ("POST", "/patients"): (
            ("POST", "/patients", {"json": patient_body(NEW)}),
            "booking",
            {"action": "create", "resource_type": "Patient", "resource_id": NEW, "patient": NEW, "outcome": 201},
        ),
        ("GET", "/patients"): (
            ("GET", "/patients?name=test", {}),
            "clinician",
            {"action": "search", "resource_type": "Patient", "resource_id": None, "patient": None, "outcome": 200},
        ),
        ("GET", "/patients/{nhs_number:str}"): (
            ("GET", f"/patients/{P[:3]} {P[3:6]} {P[6:]}", {}),
            "clinician",
            {"action": "read", "resource_type": "Patient", "resource_id": P, "patient": P, "outcome": 200},
        ),
        ("PATCH", "/patients/{nhs_number:str}"): (
            ("PATCH", f"/patients/{P}", {"json": {"postcode": "cf10 1aa"}}),
            "booking",
            {
                "action": "update",
                "resource_type": "Patient",
                "resource_id": P,
                "patient": P,
                "outcome": 200,
                "changes": {"postcode": {"from": "N6 2FA", "to": "CF10 1AA"}},
            },
        ),
        ("GET", "/patients/{nhs_number:str}/appointments"): (
            ("GET", f"/patients/{P}/appointments", {}),
            "clinician",
            {"action": "search", "resource_type": "Appointment", "resource_id": None, "patient": P, "outcome": 200},
        ),
        ("GET", "/appointments"): (
            ("GET", f"/appointments?patient={P}", {}),
            "booking",
            {"action": "search", "resource_type": "Appointment", "resource_id": None, "patient": P, "outcome": 200},
        ),
        ("GET", "/appointments/{appointment_id:str}"): (
            ("GET", f"/appointments/{a}", {}),
            "clinician",
            {"action": "read", "resource_type": "Appointment", "resource_id": a, "patient": P, "outcome": 200},
        ),
        ("PATCH", "/appointments/{appointment_id:str}"): (
            ("PATCH", f"/appointments/{a}", {"json": {"duration": "1h"}}),
            "booking",
            {
                "action": "update",
                "resource_type": "Appointment",
                "resource_id": a,
                "patient": P,
                "outcome": 200,
                "changes": {"duration": {"from": "30m", "to": "1h"}},
            },
        ),
        ("GET", "/appointments/{appointment_id:str}/reminders"): (
            ("GET", f"/appointments/{a}/reminders", {}),
            "clinician",
            {"action": "search", "resource_type": "Reminder", "resource_id": None, "patient": P, "outcome": 200},
        ),
        ("GET", "/outbox"): (
            ("GET", "/outbox", {}),
            "ops",
            {"action": "search", "resource_type": "Outbox", "resource_id": None, "patient": None, "outcome": 200},
        ),
        ("GET", "/fhir/Patient/{nhs_number:str}"): (
            ("GET", f"/fhir/Patient/{P}", {}),
            "clinician",
            {"action": "read", "resource_type": "Patient", "resource_id": P, "patient": P, "outcome": 200},
        ),
        ("GET", "/fhir/Appointment/{appointment_id:str}"): (
            ("GET", f"/fhir/Appointment/{a}", {}),
            "booking",
            {"action": "read", "resource_type": "Appointment", "resource_id": a, "patient": P, "outcome": 200},
        ),
        ("GET", "/jobs/{job_id:str}/errors"): (
            ("GET", f"/jobs/{j}/errors", {}),
            "ops",
            {"action": "read", "resource_type": "Job", "resource_id": j, "patient": None, "outcome": 200},
        ),
        ("DELETE", "/appointments/{appointment_id:str}"): (
            ("DELETE", f"/appointments/{a}", {}),
            "booking",
            {"action": "delete", "resource_type": "Appointment", "resource_id": a, "patient": P, "outcome": 204},
        ),
        ("DELETE", "/patients/{nhs_number:str}"): (
            ("DELETE", f"/patients/{P}", {}),
            "admin",
            {"action": "erase", "resource_type": "Patient", "resource_id": P, "patient": P, "outcome": 204},
        ),
    }
    # The uploads made above are checked here rather than repeated: they are routes too.
    already = {
        ("POST", "/appointments"): (
            appointment,
            "booking",
            {"action": "create", "resource_id": a, "patient": P, "outcome": 201},
        ),
        ("POST", "/jobs"): (
            job,
            "ops",
            {"action": "import", "resource_type": "Job", "resource_id": j, "patient": None, "outcome": 202},
        ),
    }
    assert set(cases) | set(already) == audited_routes(app), "each audited route needs its case here"

    for (method, url, kwargs), key, expected in cases.values():
        response = await client.request(method, url, headers=keys.header(key), **kwargs)
        assert response.status_code == expected["outcome"], (method, url, response.text)
        events = await events_of(client, keys, response)
        assert len(events) == 1, (method, url, events)
        _assert_event(events[0], key, expected)
    for response, key, expected in already.values():
        events = await events_of(client, keys, response)
        assert len(events) == 1, events
        _assert_event(events[0], key, expected)


def _assert_event(event: dict[str, Any], key: str, expected: dict[str, Any]) -> None:
    assert event["actor"] == key and event["roles"] == [key]
    for name, value in expected.items():
        assert event[name] == value, (name, event)
    if event["action"] != "update":
        assert event["changes"] is None
    assert event["at"].endswith("+00:00")


async def test_refused_requests_leave_a_denied_event(client, keys: Keys) -> None:
    unauthenticated = await client.get(f"/patients/{P}")
    assert unauthenticated.status_code == 401
    [event] = await events_of(client, keys, unauthenticated)
    assert (event["action"], event["actor"], event["roles"], event["outcome"]) == ("denied", "unauthenticated", [], 401)
    assert (event["resource_type"], event["resource_id"], event["patient"]) == ("Patient", P, P)

    forbidden = await client.delete(f"/patients/{P}", headers=keys.header("booking"))
    assert forbidden.status_code == 403
    [event] = await events_of(client, keys, forbidden)
    assert (event["action"], event["actor"], event["roles"], event["outcome"]) == (
        "denied",
        "booking",
        ["booking"],
        403,
    )

    not_audited_route = await client.get("/analytics/missed", headers=keys.header("clinician"))
    assert not_audited_route.status_code == 403
    [event] = await events_of(client, keys, not_audited_route)
    assert (event["action"], event["resource_type"], event["outcome"]) == ("denied", None, 403)

    # Routes about schedules and slots audit only refusals; those name the resource (SPEC §9's types).
    for path, resource_type in (("/schedules", "Schedule"), ("/unavailability", "Schedule"), ("/slots/holds", "Slot")):
        refused = await client.post(path, json={}, headers=keys.header("auditor"))
        assert refused.status_code == 403, path
        [event] = await events_of(client, keys, refused)
        assert (event["action"], event["resource_type"], event["outcome"]) == ("denied", resource_type, 403)
    for path, resource_type in (("/fhir/Schedule/x", "Schedule"), ("/fhir/Slot?schedule=x", "Slot")):
        refused = await client.get(path, headers=keys.header("auditor"))
        assert refused.status_code == 403, path
        [event] = await events_of(client, keys, refused)
        assert (event["action"], event["resource_type"], event["outcome"]) == ("denied", resource_type, 403)


async def test_head_is_guarded_and_audited_as_the_get_it_answers_as(client, keys: Keys) -> None:
    assert (await client.post("/patients", json=patient_body(P), headers=keys.header("booking"))).status_code == 201
    refused = await client.head(f"/patients/{P}", headers=keys.header("ops"))
    assert (refused.status_code, refused.content) == (403, b"")
    [event] = await events_of(client, keys, refused)
    assert (event["action"], event["patient"], event["outcome"]) == ("denied", P, 403)
    read = await client.head(f"/patients/{P}", headers=keys.header("clinician"))
    assert (read.status_code, read.content) == (200, b"")
    [event] = await events_of(client, keys, read)
    _assert_event(event, "clinician", {"action": "read", "patient": P, "outcome": 200})


async def test_failed_requests_leave_one_event_with_their_status(client, keys: Keys) -> None:
    book = keys.header("booking")
    missing = await client.get(f"/patients/{P}", headers=book)
    assert missing.status_code == 404
    [event] = await events_of(client, keys, missing)
    assert (event["action"], event["patient"], event["outcome"]) == ("read", P, 404)
    assert (await client.post("/patients", json=patient_body(P), headers=book)).status_code == 201
    duplicate = await client.post("/patients", json=patient_body(P), headers=book)
    assert duplicate.status_code == 409
    [event] = await events_of(client, keys, duplicate)
    assert (event["action"], event["outcome"]) == ("create", 409)


async def test_a_refused_booking_names_its_patient_and_appointment_on_both_databases(client, keys: Keys) -> None:
    # SQLite refuses an overlap in its own check before the insert, PostgreSQL at the insert: the
    # event must name the patient either way, or GET /audit?patient= would not find the attempt.
    book = keys.header("booking")
    assert (await client.post("/patients", json=patient_body(P), headers=book)).status_code == 201
    start = now() + dt.timedelta(days=3)
    first = await client.post("/appointments", json=appointment_body(P, start, clinician="Dr One"), headers=book)
    assert first.status_code == 201, first.text
    clash = appointment_body(P, start, clinician="Dr Two")
    refused = await client.post("/appointments", json=clash, headers=book)
    assert refused.status_code == 409 and refused.json()["code"] == "appointment.patient_overlap"
    [event] = await events_of(client, keys, refused)
    assert (event["action"], event["patient"], event["outcome"]) == ("create", P, 409)
    assert event["resource_id"] is not None and event["resource_id"] != first.json()["id"]


async def test_bookings_of_a_known_clinician_leave_one_event_each_whichever_way_they_are_stored(
    client, keys: Keys
) -> None:
    # On PostgreSQL the first booking of a clinician goes the long way, the next ones in one
    # statement with their event in it (domain/services/booking_fast.py): the trail must not differ.
    book = keys.header("booking")
    assert (await client.post("/patients", json=patient_body(P), headers=book)).status_code == 201
    start = now() + dt.timedelta(days=3)
    for hours in range(3):
        response = await client.post("/appointments", json=appointment_body(P, start + dt.timedelta(hours=hours)),
                                     headers=book)  # fmt: skip
        assert response.status_code == 201, response.text
        [event] = await events_of(client, keys, response)
        expected = ("create", "Appointment", response.json()["id"], P, 201)
        assert (event["action"], event["resource_type"], event["resource_id"], event["patient"], event["outcome"]) \
            == expected  # fmt: skip
    unknown = await client.post(
        "/appointments", json=appointment_body(NEW, start - dt.timedelta(hours=2)), headers=book
    )
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == "patient.unknown"
    [event] = await events_of(client, keys, unknown)
    assert (event["outcome"], event["patient"]) == (400, None)  # a number no patient has is not recorded


async def test_a_refused_change_of_an_appointment_names_its_patient(client, keys: Keys) -> None:
    # As for a refused booking: GET /audit?patient= must find an attempt to change their appointment
    # that the status or overlap rules refused (the event named no patient).
    book = keys.header("booking")
    assert (await client.post("/patients", json=patient_body(P), headers=book)).status_code == 201
    start = now() + dt.timedelta(days=3)
    first = await client.post("/appointments", json=appointment_body(P, start, clinician="Dr One"), headers=book)
    later = start + dt.timedelta(hours=2)
    second = await client.post("/appointments", json=appointment_body(P, later, clinician="Dr Two"), headers=book)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    a = second.json()["id"]
    for body, code in (
        ({"status": "attended"}, "status.not_started"),
        ({"time": first.json()["time"]}, "appointment.patient_overlap"),
        ({"patient": NEW}, "patient.immutable"),
    ):
        refused = await client.patch(f"/appointments/{a}", json=body, headers=book)
        assert refused.json()["code"] == code, refused.text
        [event] = await events_of(client, keys, refused)
        assert (event["action"], event["resource_id"], event["patient"]) == ("update", a, P), body
        assert event["outcome"] == refused.status_code


async def test_a_read_that_fails_after_reading_leaves_one_event(client, keys: Keys, monkeypatch) -> None:
    book = keys.header("booking")
    assert (await client.post("/patients", json=patient_body(P), headers=book)).status_code == 201

    def unrenderable(_row: Any) -> None:
        raise RuntimeError("the answer cannot be rendered")

    monkeypatch.setattr("domain.services.patients.patient_view", unrenderable)
    failed = await client.get(f"/patients/{P}", headers=book)
    assert failed.status_code == 500
    [event] = await events_of(client, keys, failed)
    # One event, recording the status the client got: the read is stored with its answer's outcome.
    assert (event["action"], event["patient"], event["outcome"]) == ("read", P, 500)


async def test_an_appointments_history_shows_who_changed_what_oldest_first(client, keys: Keys) -> None:
    book = keys.header("booking")
    await client.post("/patients", json=patient_body(P), headers=book)
    start = (now() + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0)
    a = (await client.post("/appointments", json=appointment_body(P, start), headers=book)).json()["id"]
    await client.get(f"/appointments/{a}", headers=keys.header("clinician"))
    await client.patch(f"/appointments/{a}", json={"status": "cancelled"}, headers=keys.header("clinician"))

    response = await client.get(f"/appointments/{a}/history", headers=keys.header("auditor"))
    assert response.status_code == 200, response.text
    history = response.json()["items"]
    assert [(e["action"], e["actor"]) for e in history] == [
        ("create", "booking"),
        ("read", "clinician"),
        ("update", "clinician"),
    ]
    assert history[2]["changes"] == {"status": {"from": "active", "to": "cancelled"}}
    assert (await client.get(f"/appointments/{a}/history", headers=book)).status_code == 403

    assert (await client.delete(f"/appointments/{a}", headers=book)).status_code == 204
    assert (await client.get(f"/appointments/{a}/history", headers=keys.header("auditor"))).status_code == 404
    kept = await client.get("/audit", params={"resource_id": a}, headers=keys.header("auditor"))
    assert [e["action"] for e in kept.json()["items"]] == ["delete", "update", "read", "create"]


async def test_audit_filters_and_erasure_keeps_the_events(client, keys: Keys) -> None:
    book = keys.header("booking")
    await client.post("/patients", json=patient_body(P), headers=book)
    await client.post("/patients", json=patient_body(NEW), headers=book)
    await client.get(f"/patients/{P}", headers=keys.header("clinician"))
    assert (await client.delete(f"/patients/{P}", headers=keys.header("admin"))).status_code == 204

    auditor = keys.header("auditor")
    page = (await client.get("/audit", params={"patient": P}, headers=auditor)).json()
    assert [e["action"] for e in page["items"]] == ["erase", "read", "create"]  # newest first
    assert page["total"] == 3
    reads = (await client.get("/audit", params={"actor": "clinician", "action": "read"}, headers=auditor)).json()
    assert [e["patient"] for e in reads["items"]] == [P]
    bad = await client.get("/audit", params={"action": "peek", "resource_type": "Dog"}, headers=auditor)
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"action", "resource_type"}
    assert (await client.get("/audit", headers=keys.header("ops"))).status_code == 403


async def test_an_event_reads_as_a_fhir_audit_event(client, keys: Keys) -> None:
    from fhir.resources.R4B.auditevent import AuditEvent

    created = await client.post("/patients", json=patient_body(P), headers=keys.header("booking"))
    [event] = await events_of(client, keys, created)
    response = await client.get(f"/fhir/AuditEvent/{event['id']}", headers=keys.header("auditor"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    resource = response.json()
    AuditEvent.model_validate(resource)  # valid FHIR R4
    assert (resource["action"], resource["outcome"], resource["recorded"]) == ("C", "0", event["at"])
    assert resource["agent"][0]["who"]["identifier"]["value"] == "booking"
    nhs = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": P}
    assert resource["entity"][0]["what"]["identifier"] == nhs
    assert (await client.get(f"/fhir/AuditEvent/{event['id']}", headers=keys.header("admin"))).status_code == 200
    assert (await client.get(f"/fhir/AuditEvent/{event['id']}", headers=keys.header("booking"))).status_code == 403
    assert (await client.get("/fhir/AuditEvent/not-a-uuid", headers=keys.header("auditor"))).status_code == 404
