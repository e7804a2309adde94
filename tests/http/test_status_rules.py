"""The SPEC status table over HTTP, with times relative to now: future, in progress, ended."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from domain.models import Appointment
from tests.factories import appointment_body, iso, nhs_number, now, parse_instant
from tests.http.helpers import assert_problem, book, create_patient

PATIENT = nhs_number(0)


async def _three(client: Any) -> dict[str, dict[str, Any]]:
    """A future, an in-progress and an ended appointment of one patient, each with its own clinician."""
    await create_patient(client, PATIENT)
    start = now()
    return {
        "future": await book(client, PATIENT, start + dt.timedelta(days=1), clinician="Dr Future"),
        "ongoing": await book(client, PATIENT, start - dt.timedelta(minutes=10), clinician="Dr Ongoing"),
        "ended": await book(client, PATIENT, start - dt.timedelta(days=1), clinician="Dr Ended"),
    }


async def _patch(client: Any, appointment: dict[str, Any], **changes: Any) -> Any:
    return await client.patch(f"/appointments/{appointment['id']}", json=changes)


async def test_created_statuses_follow_time(client) -> None:
    booked = await _three(client)
    assert [booked[k]["status"] for k in ("future", "ongoing", "ended")] == ["active", "active", "missed"]


async def test_attended_only_once_started(client) -> None:
    booked = await _three(client)
    assert_problem(await _patch(client, booked["future"], status="attended"), 409, "status.not_started")
    response = await _patch(client, booked["ongoing"], status="attended")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "attended"
    assert (await client.get(f"/appointments/{booked['future']['id']}")).json()["status"] == "active"


async def test_cancel_before_the_end_only(client) -> None:
    booked = await _three(client)
    for key in ("future", "ongoing"):
        response = await _patch(client, booked[key], status="cancelled")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
    assert_problem(await _patch(client, booked["ended"], status="cancelled"), 409)
    assert (await client.get(f"/appointments/{booked['ended']['id']}")).json()["status"] == "missed"


async def test_final_states_refuse_any_patch(client) -> None:
    booked = await _three(client)
    await _patch(client, booked["future"], status="cancelled")
    await _patch(client, booked["ongoing"], status="attended")
    attempts = [
        {"status": "active"},
        {"status": "attended"},
        {"status": "cancelled"},
        {"status": "missed"},
        {"time": iso(now() + dt.timedelta(days=3))},
        {"duration": "15m"},
        {"clinician": "Dr Else"},
        {"postcode": "SW1A 1AA"},
    ]
    for key, final in (("future", "cancelled"), ("ongoing", "attended")):
        before = (await client.get(f"/appointments/{booked[key]['id']}")).json()
        for changes in attempts:
            problem = assert_problem(await _patch(client, booked[key], **changes), 409, "status.final")
            assert final in problem["detail"]
        assert (await client.get(f"/appointments/{booked[key]['id']}")).json() == before


async def test_missed_may_become_attended_but_nothing_else(client) -> None:
    booked = await _three(client)
    assert_problem(await _patch(client, booked["ended"], status="active"), 409)
    assert_problem(await _patch(client, booked["ended"], time=iso(now() + dt.timedelta(days=2))), 409)
    assert_problem(await _patch(client, booked["ended"], clinician="Dr Else"), 409)
    response = await _patch(client, booked["ended"], status="attended")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "attended"


async def test_missed_by_hand_only_after_the_end(client) -> None:
    booked = await _three(client)
    assert_problem(await _patch(client, booked["future"], status="missed"), 409, "status.not_ended")
    assert_problem(await _patch(client, booked["ongoing"], status="missed"), 409, "status.not_ended")
    response = await _patch(client, booked["ended"], status="missed")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "missed"


async def test_reschedule_an_active_appointment(client) -> None:
    booked = await _three(client)
    new_start = (now() + dt.timedelta(days=4)).replace(second=0)
    changes = {"time": iso(new_start), "duration": "PT1H30M", "clinician": "Dr New", "postcode": "sw1a 1aa"}
    response = await _patch(client, booked["future"], **changes)
    assert response.status_code == 200, response.text
    body = response.json()
    assert parse_instant(body["time"]) == new_start
    assert parse_instant(body["end"]) == new_start + dt.timedelta(minutes=90)
    assert (body["duration"], body["clinician"], body["postcode"], body["status"]) == (
        "1h30m",
        "Dr New",
        "SW1A 1AA",
        "active",
    )
    assert (await client.get(f"/appointments/{body['id']}")).json() == body
    # Only the duration: the start stays, the end moves.
    body = (await _patch(client, booked["future"], duration="15m")).json()
    assert parse_instant(body["end"]) == new_start + dt.timedelta(minutes=15)
    # An appointment in progress has not ended, so it can still be moved.
    response = await _patch(client, booked["ongoing"], duration="2h")
    assert response.status_code == 200, response.text


async def test_past_active_is_stored_and_listed_as_missed(client, engine) -> None:
    booked = await _three(client)
    async with engine.connect() as connection:
        stored = await connection.scalar(select(Appointment.status).where(Appointment.id == booked["ended"]["id"]))
    assert stored == "missed"
    missed = (await client.get("/appointments", params={"status": "missed"})).json()["items"]
    active = (await client.get("/appointments", params={"status": "active"})).json()["items"]
    assert [a["id"] for a in missed] == [booked["ended"]["id"]]
    assert {a["id"] for a in active} == {booked["future"]["id"], booked["ongoing"]["id"]}


async def test_an_active_appointment_reads_missed_as_soon_as_it_ends(client, engine) -> None:
    """Time passes (simulated by moving the stored row): no scheduler run is needed."""
    booked = await _three(client)
    target = booked["future"]["id"]
    past = now() - dt.timedelta(hours=3)
    async with engine.begin() as connection:
        await connection.execute(
            update(Appointment)
            .where(Appointment.id == target)
            .values(starts_at=past, ends_at=past + dt.timedelta(minutes=30))
        )
        assert await connection.scalar(select(Appointment.status).where(Appointment.id == target)) == "active"
    assert (await client.get(f"/appointments/{target}")).json()["status"] == "missed"
    missed = (await client.get("/appointments", params={"status": "missed"})).json()["items"]
    assert {a["id"] for a in missed} == {target, booked["ended"]["id"]}
    active = (await client.get("/appointments", params={"status": "active"})).json()["items"]
    assert [a["id"] for a in active] == [booked["ongoing"]["id"]]
    listed = (await client.get(f"/patients/{PATIENT}/appointments")).json()["items"]
    assert {a["id"]: a["status"] for a in listed}[target] == "missed"
    assert_problem(await _patch(client, booked["future"], status="cancelled"), 409)
    assert_problem(await _patch(client, booked["future"], time=iso(now() + dt.timedelta(days=1))), 409)
    response = await _patch(client, booked["future"], status="attended")
    assert response.status_code == 200, response.text


async def test_historical_records_in_any_status(client) -> None:
    await create_patient(client, PATIENT)
    start = now() - dt.timedelta(days=30)
    for offset, status in enumerate(("attended", "cancelled", "missed", "active")):
        body = await book(client, PATIENT, start + dt.timedelta(days=offset), status=status)
        assert body["status"] == ("missed" if status == "active" else status)


async def test_attended_in_the_future_is_409(client) -> None:
    await create_patient(client, PATIENT)
    body = appointment_body(PATIENT, now() + dt.timedelta(hours=1), status="attended")
    assert_problem(await client.post("/appointments", json=body), 409, "status.attended_in_future")
    assert (await client.get("/appointments")).json()["total"] == 0


async def test_future_records_may_be_created_cancelled_or_active(client) -> None:
    await create_patient(client, PATIENT)
    start = now() + dt.timedelta(days=1)
    assert (await book(client, PATIENT, start, status="cancelled"))["status"] == "cancelled"
    assert (await book(client, PATIENT, start))["status"] == "active"


async def test_missed_cannot_be_recorded_before_the_end(client) -> None:
    """``missed`` is set by hand only after the end, so a future record cannot be created missed."""
    await create_patient(client, PATIENT)
    body = appointment_body(PATIENT, now() + dt.timedelta(days=1), status="missed")
    assert_problem(await client.post("/appointments", json=body), 409)
