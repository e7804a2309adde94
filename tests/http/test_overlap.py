"""No two active appointments of one clinician, or of one patient, overlap (half-open intervals)."""

from __future__ import annotations

import datetime as dt

from tests.factories import appointment_body, iso, nhs_number, now
from tests.http.helpers import assert_problem, book, create_patient

ANNE, BOB = nhs_number(0), nhs_number(1)


async def _patients(client) -> dt.datetime:
    await create_patient(client, ANNE)
    await create_patient(client, BOB)
    return now().replace(minute=0, second=0) + dt.timedelta(days=2)


async def test_same_clinician_overlapping_is_409(client) -> None:
    start = await _patients(client)
    await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    for shift, duration in ((0, "1h"), (30, "1h"), (-30, "45m"), (10, "10m"), (-60, "2h30m")):
        body = appointment_body(BOB, start + dt.timedelta(minutes=shift), duration=duration, clinician=" DR JONES")
        assert_problem(await client.post("/appointments", json=body), 409, "appointment.clinician_overlap")
    assert (await client.get("/appointments")).json()["total"] == 1


async def test_same_patient_overlapping_is_409(client) -> None:
    start = await _patients(client)
    await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    body = appointment_body(ANNE, start + dt.timedelta(minutes=59), duration="1h", clinician="Dr Other")
    assert_problem(await client.post("/appointments", json=body), 409, "appointment.patient_overlap")
    assert (await client.get("/appointments")).json()["total"] == 1
    names = [c["name"] for c in (await client.get("/clinicians")).json()["items"]]
    assert names == ["Dr Jones"], "the refused booking's new clinician is rolled back with it"


async def test_back_to_back_is_fine(client) -> None:
    start = await _patients(client)
    await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    await book(client, BOB, start + dt.timedelta(hours=1), duration="1h", clinician="Dr Jones")
    await book(client, BOB, start - dt.timedelta(minutes=30), duration="30m", clinician="Dr Jones")
    await book(client, ANNE, start + dt.timedelta(hours=1), duration="15m", clinician="Dr Other")
    await book(client, ANNE, start - dt.timedelta(hours=2), duration="2h", clinician="Dr Third")
    assert (await client.get("/appointments")).json()["total"] == 5


async def test_offsets_are_compared_as_instants(client) -> None:
    start = await _patients(client)
    await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    paris = start.astimezone(dt.timezone(dt.timedelta(hours=1))) + dt.timedelta(minutes=30)
    body = appointment_body(BOB, paris, duration="1h", clinician="Dr Jones")
    assert_problem(await client.post("/appointments", json=body), 409, "appointment.clinician_overlap")
    await book(client, BOB, paris + dt.timedelta(minutes=30), duration="1h", clinician="Dr Jones")


async def test_cancelled_and_past_appointments_do_not_block(client) -> None:
    start = await _patients(client)
    first = await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    cancelled = await client.patch(f"/appointments/{first['id']}", json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    await book(client, BOB, start, duration="1h", clinician="Dr Jones")
    await book(client, ANNE, start + dt.timedelta(minutes=15), duration="15m", clinician="Dr Other")
    past = now() - dt.timedelta(days=3)
    for status in ("attended", "missed", "active", "cancelled"):
        await book(client, ANNE, past, duration="1h", clinician="Dr Jones", status=status)


async def test_reschedule_into_an_overlap_is_409_and_changes_nothing(client) -> None:
    start = await _patients(client)
    await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    moving = await book(client, BOB, start + dt.timedelta(hours=3), duration="1h", clinician="Dr Jones")
    path = f"/appointments/{moving['id']}"
    into = {"time": iso(start + dt.timedelta(minutes=30))}
    assert_problem(await client.patch(path, json=into), 409, "appointment.clinician_overlap")
    assert_problem(await client.patch(path, json={"duration": "4h", "time": iso(start - dt.timedelta(hours=2))}), 409)
    assert (await client.get(path)).json() == moving
    other = await book(client, BOB, start, duration="1h", clinician="Dr Other")
    assert_problem(
        await client.patch(f"/appointments/{other['id']}", json={"clinician": "dr jones"}),
        409,
        "appointment.clinician_overlap",
    )
    # Moving within its own slot, or onto the free hour next door, is fine.
    response = await client.patch(path, json={"time": iso(start + dt.timedelta(hours=3, minutes=15))})
    assert response.status_code == 200, response.text
    response = await client.patch(path, json={"time": iso(start + dt.timedelta(hours=1))})
    assert response.status_code == 200, response.text


async def test_reschedule_into_the_patients_own_overlap_is_409(client) -> None:
    start = await _patients(client)
    await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    later = await book(client, ANNE, start + dt.timedelta(hours=2), duration="1h", clinician="Dr Other")
    response = await client.patch(f"/appointments/{later['id']}", json={"time": iso(start)})
    assert_problem(response, 409, "appointment.patient_overlap")


async def test_reactivation_is_impossible_so_a_cancelled_slot_stays_free(client) -> None:
    start = await _patients(client)
    first = await book(client, ANNE, start, duration="1h", clinician="Dr Jones")
    await client.patch(f"/appointments/{first['id']}", json={"status": "cancelled"})
    await book(client, BOB, start, duration="1h", clinician="Dr Jones")
    assert_problem(await client.patch(f"/appointments/{first['id']}", json={"status": "active"}), 409, "status.final")
