"""Races: one slot, one new clinician name, one status change, one NHS number or id, wanted by many at once.

The in-process client shares one event loop; the real server runs ``panda api`` with two
processes, each with its own connection pool, which is how production meets these races.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.factories import appointment_body, nhs_number, now, patient_body
from tests.http.live_server import live_api

RACERS = 25
NUMBERS = [nhs_number(i) for i in range(RACERS)]


async def _register_patients(client: Any) -> None:
    for number in NUMBERS:
        response = await client.post("/patients", json=patient_body(number))
        assert response.status_code == 201, response.text


async def _race_for_one_slot(client: Any) -> None:
    """25 patients want the same clinician at the same time: exactly one wins."""
    slot = now() + dt.timedelta(days=3)
    bodies = [appointment_body(n, slot, duration="45m", clinician="Dr Contested", department="Ward 0") for n in NUMBERS]
    responses = await asyncio.gather(*(client.post("/appointments", json=b) for b in bodies))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: RACERS - 1}, statuses
    codes = {r.json()["code"] for r in responses if r.status_code == 409}
    assert codes == {"appointment.clinician_overlap"}
    listed = (await client.get("/appointments", params={"clinician": "Dr Contested"})).json()
    assert listed["total"] == 1


async def _race_for_a_new_name(client: Any) -> None:
    """25 bookings at different times name one new clinician in different spellings: one entity."""
    start = now() + dt.timedelta(days=10)
    spellings = ["Dr Brand New", "dr brand new", " DR BRAND NEW ", "Dr  Brand New"]
    bodies = [
        appointment_body(n, start + dt.timedelta(hours=i), clinician=spellings[i % 4], department=f"Ward {i % 2}")
        for i, n in enumerate(NUMBERS)
    ]
    responses = await asyncio.gather(*(client.post("/appointments", json=b) for b in bodies))
    assert Counter(r.status_code for r in responses) == {201: RACERS}, [
        r.text for r in responses if r.status_code != 201
    ]
    clinicians = [c for c in (await client.get("/clinicians")).json()["items"] if c["name"] != "Dr Contested"]
    assert len(clinicians) == 1, clinicians
    assert clinicians[0]["appointments"] == RACERS
    assert len({r.json()["clinician"] for r in responses}) == 1, "every booking shows the first spelling"
    departments = (await client.get("/departments")).json()
    assert {d["name"] for d in departments["items"]} == {"Ward 0", "Ward 1"}


async def _race_for_one_status_change(client: Any) -> None:
    """Attend and cancel at once an appointment in progress: exactly one change wins, the rest are 409."""
    started = await client.post("/appointments", json=appointment_body(NUMBERS[0], now() - dt.timedelta(minutes=5)))
    assert started.status_code == 201, started.text
    path = f"/appointments/{started.json()['id']}"
    wanted = ["attended", "cancelled"] * 6
    responses = await asyncio.gather(*(client.patch(path, json={"status": s}) for s in wanted))
    winners = [s for s, r in zip(wanted, responses, strict=True) if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    assert {r.status_code for r in responses} == {200, 409}
    assert (await client.get(path)).json()["status"] == winners[0]


async def _race_for_one_identity(client: Any) -> None:
    """The same NHS number registered, and the same appointment id booked, by many at once: one each."""
    number = nhs_number(RACERS + 1)
    responses = await asyncio.gather(*(client.post("/patients", json=patient_body(number)) for _ in range(10)))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    chosen = "5b1f0c52-1111-4c2a-9d7e-0123456789ab"
    start = now() + dt.timedelta(days=30)
    bodies = [
        appointment_body(n, start + dt.timedelta(hours=i), id=chosen, clinician=f"Dr {i}")
        for i, n in enumerate(NUMBERS[:10])
    ]
    responses = await asyncio.gather(*(client.post("/appointments", json=b) for b in bodies))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"appointment.duplicate_id"}


async def test_one_slot_many_bookers_in_process(client) -> None:
    await _register_patients(client)
    await _race_for_one_slot(client)


async def test_new_clinician_many_first_uses_in_process(client) -> None:
    await _register_patients(client)
    await _race_for_a_new_name(client)


# SQLite's guard (BEGIN IMMEDIATE on every write) already meets many connections in process;
# PostgreSQL's exclusion constraints and locks are what several server processes must meet.
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_races_against_a_real_multi_process_server(settings, engine) -> None:
    with live_api(settings) as base_url:
        limits = httpx.Limits(max_connections=RACERS * 2)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
            await _register_patients(client)
            await _race_for_one_slot(client)
            await _race_for_a_new_name(client)
            await _race_for_one_status_change(client)
            await _race_for_one_identity(client)


async def test_one_status_change_wins_in_process(client) -> None:
    await _register_patients(client)
    await _race_for_one_status_change(client)


async def test_one_identity_wins_in_process(client) -> None:
    await _register_patients(client)
    await _race_for_one_identity(client)
