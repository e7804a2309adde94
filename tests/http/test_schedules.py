"""``/schedules`` and ``/unavailability`` (SPEC §10), on both databases."""

from __future__ import annotations

import datetime as dt

from tests.http.helpers import assert_problem, field_codes
from tests.http.timetable import create_schedule, london_day, schedule_body


async def test_create_read_list_change_and_delete_a_schedule(client) -> None:
    created = await client.post("/schedules", json=schedule_body(weekdays=["thu", "Mon"], slot="PT20M"))
    assert created.status_code == 201, created.text
    view = created.json()
    assert created.headers["location"] == f"/schedules/{view['id']}"
    assert view["weekdays"] == ["mon", "thu"]
    assert (view["start"], view["end"], view["slot"]) == ("09:00", "12:00", "20m")
    assert view["valid_from"] == london_day(0).isoformat() and view["valid_to"] is None
    assert view["created_at"].endswith("+00:00")
    assert (await client.get(f"/schedules/{view['id']}")).json() == view
    await create_schedule(client, clinician="Dr Other", department="Renal")
    listed = (await client.get("/schedules", params={"department": "cardiology", "limit": 1})).json()
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 1, 0)
    assert [s["id"] for s in listed["items"]] == [view["id"]]
    assert (await client.get("/schedules")).json()["total"] == 2

    patched = await client.patch(f"/schedules/{view['id']}", json={"end": "13:00", "valid_to": "2099-12-31"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["end"], patched.json()["valid_to"]) == ("13:00", "2099-12-31")
    cleared = await client.patch(f"/schedules/{view['id']}", json={"valid_to": None})
    assert cleared.json()["valid_to"] is None

    assert (await client.delete(f"/schedules/{view['id']}")).status_code == 204
    assert_problem(await client.get(f"/schedules/{view['id']}"), 404, "schedule.not_found")
    assert_problem(await client.delete(f"/schedules/{view['id']}"), 404, "schedule.not_found")
    for malformed in ("not-a-uuid", "123"):
        assert_problem(await client.get(f"/schedules/{malformed}"), 404, "schedule.not_found")
        assert_problem(await client.patch(f"/schedules/{malformed}", json={}), 404, "schedule.not_found")


async def test_clashing_sessions_of_one_clinician_are_409(client) -> None:
    await create_schedule(client, weekdays=["mon", "wed"], start="09:00", end="12:00")
    clash = schedule_body(weekdays=["wed"], start="11:30", end="14:00", clinician=" DR SLOT ")
    assert_problem(await client.post("/schedules", json=clash), 409, "schedule.overlap")
    # Another weekday, back to back, another clinician, or disjoint validity: fine.
    await create_schedule(client, weekdays=["tue"], start="11:30", end="14:00")
    await create_schedule(client, weekdays=["wed"], start="12:00", end="14:00")
    await create_schedule(client, clinician="Dr Else", weekdays=["wed"], start="11:30", end="14:00")
    later = schedule_body(weekdays=["mon"], start="08:00", end="10:00", valid_from="2098-01-01")
    first = await create_schedule(client, weekdays=["sat"], start="08:00", end="10:00", valid_to="2097-12-31")
    assert (await client.post("/schedules", json={**later, "weekdays": ["sat"]})).status_code == 201
    # A change that would clash is refused too, and changes nothing.
    moved = await client.patch(f"/schedules/{first['id']}", json={"weekdays": ["wed"], "start": "09:30"})
    assert_problem(moved, 409, "schedule.overlap")
    assert (await client.get(f"/schedules/{first['id']}")).json()["weekdays"] == ["sat"]
    assert (await client.get("/schedules")).json()["total"] == 6


async def test_bad_schedules_name_every_bad_field(client) -> None:
    body = schedule_body(weekdays=["funday"], start="9am", end=1700, slot="2m", valid_from="2027-02-30", colour="red")
    problem = assert_problem(await client.post("/schedules", json=body), 400)
    assert field_codes(problem) == {
        "weekdays": "weekdays.invalid",
        "start": "wall_time.format",
        "end": "wall_time.format",
        "slot": "slot.range",
        "valid_from": "date.format",
        "colour": "field.unknown",
    }
    backwards = assert_problem(await client.post("/schedules", json=schedule_body(start="12:00", end="09:00")), 400)
    assert field_codes(backwards) == {"end": "schedule.end_before_start"}
    # Rules that span fields report beside the other fields' errors, all at once.
    everything = schedule_body(start="15:00", end="13:00", slot="1m", valid_from="2030-02-01", valid_to="2030-01-01")
    assert field_codes(assert_problem(await client.post("/schedules", json=everything), 400)) == {
        "end": "schedule.end_before_start",
        "slot": "slot.range",
        "valid_to": "schedule.validity_order",
    }
    validity = schedule_body(valid_from="2030-01-02", valid_to="2030-01-01")
    assert field_codes(assert_problem(await client.post("/schedules", json=validity), 400)) == {
        "valid_to": "schedule.validity_order"
    }
    welsh = await client.post("/schedules", json=schedule_body(weekdays=[]), headers={"Accept-Language": "cy"})
    assert welsh.headers["content-language"] == "cy"
    assert "dyddiau" in welsh.json()["errors"][0]["message"]
    for bad in (["mon", 3], "mon", None, [{"day": "mon"}]):
        assert field_codes(assert_problem(await client.post("/schedules", json=schedule_body(weekdays=bad)), 400))
    assert (await client.get("/schedules")).json()["total"] == 0
    assert (await client.get("/clinicians")).json()["total"] == 0, "refused input changes nothing"


async def test_unavailability(client) -> None:
    start = dt.datetime(2031, 8, 1, 8, tzinfo=dt.UTC)
    body = {
        "clinician": "Dr Slot",
        "from": "2031-08-01T09:00:00+01:00",
        "to": "2031-08-15T00:00:00Z",
        "reason": "Leave",
    }
    created = await client.post("/unavailability", json=body)
    assert created.status_code == 201, created.text
    view = created.json()
    assert created.headers["location"] == f"/unavailability/{view['id']}"
    assert (view["from"], view["to"], view["reason"]) == (start.isoformat(), "2031-08-15T00:00:00+00:00", "Leave")
    other = {**body, "clinician": "Dr Other", "from": "2031-09-01T00:00:00Z", "to": "2031-09-02T00:00:00Z"}
    assert (await client.post("/unavailability", json=other)).status_code == 201
    assert (await client.get("/unavailability")).json()["total"] == 2
    mine = (await client.get("/unavailability", params={"clinician": "dr slot"})).json()
    assert [u["id"] for u in mine["items"]] == [view["id"]]
    window = {"from": "2031-08-14T23:00:00Z", "to": "2031-08-20T00:00:00Z"}
    assert [u["id"] for u in (await client.get("/unavailability", params=window)).json()["items"]] == [view["id"]]
    after = {"from": "2031-08-15T00:00:00Z", "to": "2031-08-20T00:00:00Z"}
    assert (await client.get("/unavailability", params=after)).json()["total"] == 0
    assert (await client.delete(f"/unavailability/{view['id']}")).status_code == 204
    assert_problem(await client.delete(f"/unavailability/{view['id']}"), 404, "unavailability.not_found")
    assert_problem(await client.delete("/unavailability/nope"), 404, "unavailability.not_found")


async def test_bad_unavailability_is_400_and_changes_nothing(client) -> None:
    bad = {"clinician": "", "from": "2031-08-01T09:00:00", "to": "tomorrow", "reason": "x" * 256, "note": 1}
    assert field_codes(assert_problem(await client.post("/unavailability", json=bad), 400)) == {
        "clinician": "clinician.empty",
        "from": "time.offset_required",
        "to": "time.format",
        "reason": "reason.too_long",
        "note": "field.unknown",
    }
    backwards = {"clinician": "Dr Slot", "from": "2031-08-02T00:00:00Z", "to": "2031-08-01T00:00:00Z"}
    assert field_codes(assert_problem(await client.post("/unavailability", json=backwards), 400)) == {
        "to": "range.order"
    }
    both = {**backwards, "reason": "a\nb"}
    assert field_codes(assert_problem(await client.post("/unavailability", json=both), 400)) == {
        "to": "range.order",
        "reason": "reason.control_character",
    }
    control = {"clinician": "Dr Slot", "from": "2031-08-01T00:00:00Z", "to": "2031-08-02T00:00:00Z", "reason": "a\nb"}
    assert field_codes(assert_problem(await client.post("/unavailability", json=control), 400)) == {
        "reason": "reason.control_character"
    }
    problem = assert_problem(await client.get("/unavailability", params={"from": "yesterday"}), 400)
    assert field_codes(problem) == {"from": "from.format"}
    assert (await client.get("/unavailability")).json()["total"] == 0
