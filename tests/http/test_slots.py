"""``/slots``, holds, and booking against schedules (SPEC §10), on both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import text, update

from domain.models import SlotHold
from domain.services.sweep import sweep_missed
from tests.factories import appointment_body, nhs_number
from tests.http.helpers import assert_problem, book, create_patient, field_codes
from tests.http.live_server import live_api
from tests.http.timetable import create_schedule, day_window, london, london_day

ANNE, BOB = nhs_number(0), nhs_number(1)
DAY = 3  # London days ahead: every test books in the future


def starts(page: dict) -> list[str]:
    return [item["start"] for item in page["items"]]


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


async def search(client, **params) -> dict:
    response = await client.get("/slots", params={"department": "cardiology", **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_free_slots_are_the_sessions_grid_in_london_time(client) -> None:
    day = london_day(DAY)
    await create_schedule(client)
    await create_schedule(client, clinician="Dr Two", start="10:00", end="11:00", slot="1h")
    page = await search(client, **day_window(day))
    assert page["total"] == 7
    assert starts(page) == [utc(london(day, 9, m)) for m in (0, 30)] + [utc(london(day, 10))] * 2 + [
        utc(london(day, h, m)) for h, m in ((10, 30), (11, 0), (11, 30))
    ]
    assert [i["clinician"] for i in page["items"][2:4]] == ["Dr Slot", "Dr Two"], "by start, then clinician"
    first = page["items"][0]
    assert first == {
        "clinician": "Dr Slot",
        "department": "Cardiology",
        "postcode": "N6 2FA",
        "start": utc(london(day, 9)),
        "end": utc(london(day, 9, 30)),
    }
    assert first["start"].endswith("+00:00")
    paged = await search(client, **day_window(day), limit=2, offset=5)
    assert (paged["total"], paged["limit"], paged["offset"], len(paged["items"])) == (7, 2, 5, 2)
    longer = await search(client, clinician="dr slot", **day_window(day), duration="1h")
    assert starts(longer) == [utc(london(day, h, m)) for h, m in ((9, 0), (9, 30), (10, 0), (10, 30), (11, 0))]
    assert (await search(client, postcode="n62fa", **day_window(day)))["total"] == 7
    blank_department = await search(client, department=" ", clinician="Dr Two", **day_window(day))
    assert [i["clinician"] for i in blank_department["items"]] == ["Dr Two"], "a blank filter is not given"
    assert (await search(client, postcode="SW1A 1AA", **day_window(day)))["total"] == 0


async def test_appointments_holds_and_unavailability_are_not_offered(client) -> None:
    day = london_day(DAY)
    await create_schedule(client)
    await create_patient(client, ANNE)
    await book(client, ANNE, london(day, 9, 15), duration="30m", clinician="Dr Slot")  # off the grid: fine
    hold = await client.post(
        "/slots/holds", json={"clinician": "Dr Slot", "time": utc(london(day, 10)), "duration": "30m"}
    )
    assert hold.status_code == 201, hold.text
    leave = {"clinician": "Dr Slot", "from": utc(london(day, 11)), "to": utc(london(day, 11, 30))}
    assert (await client.post("/unavailability", json=leave)).status_code == 201
    page = await search(client, **day_window(day))
    assert starts(page) == [utc(london(day, h, m)) for h, m in ((10, 30), (11, 30))]


async def test_bad_searches_are_400(client) -> None:
    day = london_day(DAY)
    problem = assert_problem(await client.get("/slots"), 400)
    assert field_codes(problem) == {
        "department": "slots.filter_required",
        "from": "field.required",
        "to": "field.required",
    }
    blank = {"department": " ", "clinician": "", **day_window(day)}
    problem = assert_problem(await client.get("/slots", params=blank), 400)
    assert field_codes(problem) == {"department": "slots.filter_required"}
    control = {"department": "\n", "clinician": "x", **day_window(day)}  # not blank: refused by its rule
    problem = assert_problem(await client.get("/slots", params=control), 400)
    assert field_codes(problem) == {"department": "department.control_character"}
    too_long = {"clinician": "x", "from": utc(london(day, 0)), "to": utc(london(day, 0) + dt.timedelta(days=32))}
    problem = assert_problem(await client.get("/slots", params=too_long), 400, "range.too_long")
    assert "31" in problem["errors"][0]["message"]
    bad = {"department": "x", "from": "monday", "to": utc(london(day, 0)), "duration": "13h", "postcode": "nope"}
    assert field_codes(assert_problem(await client.get("/slots", params=bad), 400)) == {
        "from": "from.format",
        "duration": "duration.range",
        "postcode": "postcode.format",
    }
    backwards = {"department": "x", "from": utc(london(day, 1)), "to": utc(london(day, 0))}
    assert field_codes(assert_problem(await client.get("/slots", params=backwards), 400)) == {"to": "range.order"}
    welsh = await client.get("/slots", params=too_long, headers={"Accept-Language": "cy"})
    assert welsh.headers["content-language"] == "cy" and "31" in welsh.json()["detail"]


async def test_hold_then_book_with_it(client) -> None:
    day = london_day(DAY)
    await create_schedule(client)
    await create_patient(client, ANNE)
    await create_patient(client, BOB)
    body = {"clinician": "dr slot", "time": utc(london(day, 9)), "duration": "30m"}
    held = await client.post("/slots/holds", json=body)
    assert held.status_code == 201, held.text
    hold = held.json()
    assert set(hold) == {"id", "clinician", "start", "end", "expires_at"}
    assert (hold["clinician"], hold["start"], hold["end"]) == ("Dr Slot", utc(london(day, 9)), utc(london(day, 9, 30)))
    expires = dt.datetime.fromisoformat(hold["expires_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=280) < expires <= dt.timedelta(seconds=300)
    assert_problem(await client.post("/slots/holds", json=body), 409, "slot.taken")
    overlapping = {**body, "time": utc(london(day, 9, 15))}
    assert_problem(await client.post("/slots/holds", json=overlapping), 409, "slot.taken")

    other = appointment_body(BOB, london(day, 9, 10), duration="10m", clinician="Dr Slot")
    assert_problem(await client.post("/appointments", json=other), 409, "slot.held")
    wrong = appointment_body(ANNE, london(day, 9), duration="15m", clinician="Dr Slot", hold=hold["id"])
    assert_problem(await client.post("/appointments", json=wrong), 409, "hold.mismatch")
    elsewhere = appointment_body(ANNE, london(day, 9), clinician="Dr Two", hold=hold["id"])
    assert_problem(await client.post("/appointments", json=elsewhere), 409, "hold.mismatch")
    booked = await client.post(
        "/appointments", json=appointment_body(ANNE, london(day, 9), clinician="Dr Slot", hold=hold["id"])
    )
    assert booked.status_code == 201, booked.text
    again = appointment_body(BOB, london(day, 10), clinician="Dr Slot", hold=hold["id"])
    assert_problem(await client.post("/appointments", json=again), 409, "hold.expired")
    assert_problem(await client.delete(f"/slots/holds/{hold['id']}"), 404, "hold.not_found")
    assert utc(london(day, 9)) not in starts(await search(client, **day_window(day)))
    # The slot is an appointment now: holding it is still taken.
    assert_problem(await client.post("/slots/holds", json=body), 409, "slot.taken")
    bad = appointment_body(ANNE, london(day, 10), clinician="Dr Slot", hold="not-a-uuid")
    assert field_codes(assert_problem(await client.post("/appointments", json=bad), 400)) == {"hold": "id.format"}


async def test_a_released_or_expired_hold_frees_the_slot(client, engine, sessions) -> None:
    day = london_day(DAY)
    await create_schedule(client)
    await create_patient(client, ANNE)
    body = {"clinician": "Dr Slot", "time": utc(london(day, 9)), "duration": "30m"}
    first = (await client.post("/slots/holds", json=body)).json()
    assert (await client.delete(f"/slots/holds/{first['id']}")).status_code == 204
    assert utc(london(day, 9)) in starts(await search(client, **day_window(day)))
    assert_problem(await client.delete("/slots/holds/nope"), 404, "hold.not_found")

    second = (await client.post("/slots/holds", json=body)).json()
    assert utc(london(day, 9)) not in starts(await search(client, **day_window(day)))
    async with engine.begin() as connection:  # five minutes later
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await connection.execute(update(SlotHold.__table__).values(expires_at=past))
    assert utc(london(day, 9)) in starts(await search(client, **day_window(day)))
    late = appointment_body(ANNE, london(day, 9), clinician="Dr Slot", hold=second["id"])
    assert_problem(await client.post("/appointments", json=late), 409, "hold.expired")
    third = await client.post("/slots/holds", json=body)
    assert third.status_code == 201, "an expired hold stands in no one's way"
    booked = await client.post("/appointments", json={**late, "hold": third.json()["id"]})
    assert booked.status_code == 201, booked.text


async def test_the_sweep_removes_expired_holds_only(client, engine, sessions) -> None:
    day = london_day(DAY)
    await create_schedule(client)
    held = []
    for hour in (9, 10):
        body = {"clinician": "Dr Slot", "time": utc(london(day, hour)), "duration": "30m"}
        response = await client.post("/slots/holds", json=body)
        assert response.status_code == 201
        held.append(uuid.UUID(response.json()["id"]))
    hold = SlotHold.__table__
    async with engine.begin() as connection:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await connection.execute(update(hold).where(hold.c.id == held[0]).values(expires_at=past))
    await sweep_missed(sessions)
    async with engine.connect() as connection:
        left = (await connection.execute(text("SELECT count(*) FROM slot_hold"))).scalar()
    assert left == 1
    assert utc(london(day, 10)) not in starts(await search(client, **day_window(day)))


async def test_holds_must_fit_the_timetable(client) -> None:
    day = london_day(DAY)
    await create_schedule(client)
    outside = {"clinician": "Dr Slot", "time": utc(london(day, 11, 45)), "duration": "30m"}
    assert_problem(await client.post("/slots/holds", json=outside), 409, "appointment.outside_schedule")
    past = {"clinician": "Dr Slot", "time": utc(london(london_day(-1), 9)), "duration": "30m"}
    assert_problem(await client.post("/slots/holds", json=past), 409, "slot.past")
    bad = {"clinician": "", "time": "9am", "duration": "0m", "colour": "red"}
    assert field_codes(assert_problem(await client.post("/slots/holds", json=bad), 400)) == {
        "clinician": "clinician.empty",
        "time": "time.format",
        "duration": "duration.range",
        "colour": "field.unknown",
    }


async def test_bookings_and_reschedules_must_fit_the_schedule(client) -> None:
    day = london_day(DAY)
    await create_schedule(client, weekdays=[day.strftime("%a").lower()])
    await create_patient(client, ANNE)
    leave = {"clinician": "Dr Slot", "from": utc(london(day, 11)), "to": utc(london(day, 12))}
    assert (await client.post("/unavailability", json=leave)).status_code == 201
    for start, duration in (
        (london(day, 8, 45), "30m"),
        (london(day, 11, 45), "30m"),
        (london(day + dt.timedelta(days=1), 9), "30m"),
    ):
        body = appointment_body(ANNE, start, duration=duration, clinician="Dr Slot")
        assert_problem(await client.post("/appointments", json=body), 409, "appointment.outside_schedule")
    unavailable = appointment_body(ANNE, london(day, 10, 50), duration="20m", clinician="Dr Slot")
    assert_problem(await client.post("/appointments", json=unavailable), 409, "appointment.clinician_unavailable")
    booked = await book(client, ANNE, london(day, 9, 5), duration="20m", clinician="Dr Slot")
    moved = await client.patch(f"/appointments/{booked['id']}", json={"time": utc(london(day, 8))})
    assert_problem(moved, 409, "appointment.outside_schedule")
    assert (await client.patch(f"/appointments/{booked['id']}", json={"time": utc(london(day, 10))})).status_code == 200
    # No schedule, no check; history is not checked either.
    await book(client, ANNE, london(day, 20), clinician="Dr Unscheduled")
    past = appointment_body(ANNE, london(london_day(-2), 20), clinician="Dr Slot", status="attended")
    assert (await client.post("/appointments", json=past)).status_code == 201


async def _race_for_one_hold(client) -> None:
    """24 patients hold the same slot at once: exactly one wins."""
    body = {"clinician": "Dr Slot", "time": utc(london(london_day(DAY), 10)), "duration": "30m"}
    responses = await asyncio.gather(*(client.post("/slots/holds", json=body) for _ in range(24)))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 23}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot.taken"}


async def _race_holds_against_bookings(client) -> None:
    """Holds and direct bookings of one slot at once: one of them wins, never a hold and a booking both."""
    start = london(london_day(DAY), 11)
    hold = {"clinician": "Dr Slot", "time": utc(start), "duration": "30m"}
    patients = [nhs_number(10 + i) for i in range(12)]
    for number in patients:
        await create_patient(client, number)
    requests = [client.post("/slots/holds", json=hold) for _ in range(12)] + [
        client.post("/appointments", json=appointment_body(n, start, clinician="Dr Slot")) for n in patients
    ]
    responses = await asyncio.gather(*requests)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 23}, [r.text for r in responses]
    codes = {r.json()["code"] for r in responses if r.status_code == 409}
    assert codes <= {"slot.taken", "slot.held", "appointment.clinician_overlap"}


async def test_24_simultaneous_holds_of_one_slot_give_exactly_one_201(client) -> None:
    await create_schedule(client)
    await _race_for_one_hold(client)
    await _race_holds_against_bookings(client)


# PostgreSQL's exclusion constraint and advisory locks are what several server processes must meet.
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_hold_races_against_a_real_multi_process_server(settings, engine) -> None:
    with live_api(settings) as base_url:
        async with httpx.AsyncClient(base_url=base_url, limits=httpx.Limits(max_connections=48), timeout=60) as client:
            await create_schedule(client)
            await _race_for_one_hold(client)
            await _race_holds_against_bookings(client)


async def test_a_refused_booking_leaves_nothing_and_the_schedule_answers_before_the_overlap(client) -> None:
    day = london_day(DAY)
    await create_patient(client, ANNE)
    first = await book(client, ANNE, london(day, 8), clinician="Dr Order")  # no schedule yet: not checked
    await create_schedule(client, clinician="Dr Order", weekdays=[day.strftime("%a").lower()])
    # On PostgreSQL a booking of a known clinician is written and then checked against the
    # timetable read in the same statement: a refusal must take its rows with it.
    late = appointment_body(ANNE, london(day, 12, 30), clinician="Dr Order")
    assert_problem(await client.post("/appointments", json=late), 409, "appointment.outside_schedule")
    # 08:00 clashes with the first booking and lies outside the 09:00–12:00 session: the
    # timetable's answer comes first, on every path and database.
    clash = appointment_body(ANNE, london(day, 8), clinician="Dr Order")
    assert_problem(await client.post("/appointments", json=clash), 409, "appointment.outside_schedule")
    listed = (await client.get("/appointments", params={"patient": ANNE})).json()
    assert [item["id"] for item in listed["items"]] == [first["id"]]
