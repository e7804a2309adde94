"""``/fhir/Schedule/{id}`` and ``/fhir/Slot?schedule=…&start=ge…&start=lt…``, validated by ``fhir.resources``."""

from __future__ import annotations

import datetime as dt

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from tests.http.helpers import assert_problem, field_codes
from tests.http.timetable import create_schedule, london, london_day


async def test_a_schedule_as_a_fhir_schedule(client) -> None:
    created = await create_schedule(client, weekdays=["mon", "thu"], valid_to="2099-12-31")
    response = await client.get(f"/fhir/Schedule/{created['id']}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    resource = response.json()
    Schedule.model_validate(resource)
    assert resource["id"] == created["id"] and resource["active"] is True
    assert resource["actor"][0] == {"type": "Practitioner", "display": "Dr Slot"}
    assert resource["serviceType"] == [{"text": "Cardiology"}]
    assert resource["comment"] == "mon, thu 09:00-12:00 Europe/London, 30m slots"
    assert resource["planningHorizon"]["end"] == "2100-01-01T00:00:00+00:00"
    assert_problem(await client.get("/fhir/Schedule/not-a-uuid"), 404, "schedule.not_found")
    assert_problem(await client.get(f"/fhir/Schedule/{'0' * 32}"), 404, "schedule.not_found")


async def test_free_slots_as_a_searchset_bundle(client) -> None:
    day = london_day(3)
    created = await create_schedule(client)
    await create_schedule(client, clinician="Dr Other")  # another schedule's slots are not this one's
    params = [("schedule", created["id"]), ("start", f"ge{day}"), ("start", f"lt{day + dt.timedelta(days=1)}")]
    hold = {"clinician": "Dr Slot", "time": london(day, 10).isoformat(), "duration": "30m"}
    assert (await client.post("/slots/holds", json=hold)).status_code == 201
    response = await client.get("/fhir/Slot", params=params)
    assert response.status_code == 200, response.text
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert (bundle["type"], bundle["total"]) == ("searchset", 5)
    slots = [entry["resource"] for entry in bundle["entry"]]
    for slot in slots:
        Slot.model_validate(slot)
        assert slot["status"] == "free" and slot["schedule"] == {"reference": f"Schedule/{created['id']}"}
    expected = [london(day, h, m) for h, m in ((9, 0), (9, 30), (10, 30), (11, 0), (11, 30))]
    assert [s["start"] for s in slots] == [t.astimezone(dt.UTC).isoformat() for t in expected]
    assert len({s["id"] for s in slots}) == 5

    unknown = [("schedule", "0" * 32), *params[1:]]
    assert (await client.get("/fhir/Slot", params=unknown)).json()["total"] == 0


async def test_bad_slot_searches_are_400(client) -> None:
    day = london_day(3)
    assert field_codes(assert_problem(await client.get("/fhir/Slot"), 400)) == {
        "schedule": "field.required",
        "start": "start.bounds",
    }
    bad = [("schedule", "nope"), ("start", "ge2027-13-01"), ("start", "xx2027-01-01")]
    codes = field_codes(assert_problem(await client.get("/fhir/Slot", params=bad), 400))
    assert codes["schedule"] == "id.format" and codes["start"] in {"from.date_or_time", "start.bounds"}
    too_long = [("schedule", "0" * 32), ("start", f"ge{day}"), ("start", f"lt{day + dt.timedelta(days=40)}")]
    assert_problem(await client.get("/fhir/Slot", params=too_long), 400, "range.too_long")
    half = [("schedule", "0" * 32), ("start", f"ge{day}")]
    assert field_codes(assert_problem(await client.get("/fhir/Slot", params=half), 400)) == {"start": "start.bounds"}
