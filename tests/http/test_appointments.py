"""``/appointments`` over HTTP: book, read, times and durations, directory entities, lists."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.factories import appointment_body, dashed, iso, nhs_number, now, parse_instant, spaced
from tests.http.helpers import assert_problem, book, create_patient, field_codes

PATIENT = nhs_number(0)
OTHER = nhs_number(1)


async def test_create_without_id_gets_a_server_uuid_and_location(client) -> None:
    await create_patient(client, PATIENT)
    start = now() + dt.timedelta(days=1)
    response = await client.post("/appointments", json=appointment_body(spaced(PATIENT), start))
    assert response.status_code == 201, response.text
    body = response.json()
    assert uuid.UUID(body["id"])
    assert response.headers["location"] == f"/appointments/{body['id']}"
    assert body["patient"] == PATIENT
    assert body["status"] == "active"
    assert (body["duration"], body["clinician"], body["department"], body["postcode"]) == (
        "30m",
        "Dr Jones",
        "cardiology",
        "N6 2FA",
    )
    assert parse_instant(body["time"]) == start
    assert (await client.get(response.headers["location"])).json() == body


async def test_create_with_client_id_keeps_it(client) -> None:
    await create_patient(client, PATIENT)
    chosen = uuid.uuid4()
    body = await book(client, PATIENT, now() + dt.timedelta(days=1), id=str(chosen).upper())
    assert body["id"] == str(chosen)
    assert (await client.get(f"/appointments/{chosen}")).status_code == 200


async def test_unknown_patient_is_400_on_the_patient_field(client) -> None:
    response = await client.post("/appointments", json=appointment_body(PATIENT, now() + dt.timedelta(days=1)))
    problem = assert_problem(response, 400, "patient.unknown")
    assert field_codes(problem) == {"patient": "patient.unknown"}
    assert (await client.get("/clinicians")).json()["total"] == 0, "a refused booking creates no clinician"


async def test_duplicate_id_is_409_and_never_an_update(client) -> None:
    await create_patient(client, PATIENT)
    await create_patient(client, OTHER)
    first = await book(client, PATIENT, now() + dt.timedelta(days=1))
    again = appointment_body(OTHER, now() + dt.timedelta(days=5), id=first["id"], clinician="Dr Other")
    assert_problem(await client.post("/appointments", json=again), 409, "appointment.duplicate_id")
    historical = appointment_body(OTHER, now() - dt.timedelta(days=5), id=first["id"], status="attended")
    assert_problem(await client.post("/appointments", json=historical), 409, "appointment.duplicate_id")
    assert (await client.get(f"/appointments/{first['id']}")).json() == first


async def test_unknown_or_malformed_id_is_404(client) -> None:
    assert_problem(await client.get(f"/appointments/{uuid.uuid4()}"), 404, "appointment.not_found")
    for bad in ("not-a-uuid", "1234", "0" * 33):
        assert_problem(await client.get(f"/appointments/{bad}"), 404, "appointment.not_found")
        assert_problem(await client.patch(f"/appointments/{bad}", json={"status": "cancelled"}), 404)
        assert_problem(await client.delete(f"/appointments/{bad}"), 404)


async def test_naive_timestamp_is_400(client) -> None:
    await create_patient(client, PATIENT)
    body = appointment_body(PATIENT, now(), time="2030-06-04T16:30:00")
    problem = assert_problem(await client.post("/appointments", json=body), 400)
    assert field_codes(problem) == {"time": "time.offset_required"}


async def test_offset_time_is_returned_as_the_same_instant_in_utc(client) -> None:
    await create_patient(client, PATIENT)
    local = dt.datetime(2030, 6, 4, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    body = await book(client, PATIENT, local, duration="1h30m")
    assert body["time"] == "2030-06-04T15:30:00+00:00"
    assert body["end"] == "2030-06-04T17:00:00+00:00"
    again = (await client.get(f"/appointments/{body['id']}")).json()
    assert (again["time"], again["end"]) == (body["time"], body["end"])
    listed = (await client.get("/appointments")).json()["items"]
    assert [a["time"] for a in listed] == ["2030-06-04T15:30:00+00:00"]
    zulu = await book(client, PATIENT, local, time="2031-01-01T09:00:00Z")
    assert zulu["time"] == "2031-01-01T09:00:00+00:00"
    for stamp in ("created_at", "updated_at"):
        parse_instant(body[stamp])


async def test_durations_are_parsed_and_returned_canonically(client) -> None:
    await create_patient(client, PATIENT)
    start = now() + dt.timedelta(days=1)
    written = {"15m": ("15m", 15), "1h": ("1h", 60), "90m": ("1h30m", 90), "PT1H30M": ("1h30m", 90), "1m": ("1m", 1)}
    written |= {"2h": ("2h", 120), "12h": ("12h", 720), "PT45M": ("45m", 45)}
    for days, (sent, (shown, minutes)) in enumerate(written.items()):
        body = await book(client, PATIENT, start + dt.timedelta(days=days), duration=sent)
        assert body["duration"] == shown, sent
        assert parse_instant(body["end"]) - parse_instant(body["time"]) == dt.timedelta(minutes=minutes), sent
    for sent in ("0m", "12h1m", "13h", "PT0M", "abc", "", "1.5h", 30):
        problem = assert_problem(
            await client.post("/appointments", json=appointment_body(PATIENT, start, duration=sent)), 400
        )
        assert set(field_codes(problem)) == {"duration"}, sent


async def test_clinicians_and_departments_are_created_once_and_matched_loosely(client) -> None:
    await create_patient(client, PATIENT)
    start = now() + dt.timedelta(days=1)
    first = await book(client, PATIENT, start, clinician="Dr Ana María López", department="Cardiology")
    spellings = [("  dr ana maría lópez ", "CARDIOLOGY "), ("DR ANA MARÍA LÓPEZ", " cardiology")]
    for days, (clinician, department) in enumerate(spellings, start=1):
        body = await book(client, PATIENT, start + dt.timedelta(days=days), clinician=clinician, department=department)
        assert (body["clinician"], body["department"]) == (first["clinician"], first["department"])
    await book(client, PATIENT, start + dt.timedelta(days=9), clinician="Dr Other", department="oncology")
    clinicians = (await client.get("/clinicians")).json()
    assert {c["name"]: c["appointments"] for c in clinicians["items"]} == {"Dr Ana María López": 3, "Dr Other": 1}
    assert clinicians["total"] == 2
    departments = (await client.get("/departments")).json()
    assert {d["name"]: d["appointments"] for d in departments["items"]} == {"Cardiology": 3, "oncology": 1}
    page = (await client.get("/clinicians", params={"limit": 1, "offset": 1})).json()
    assert (len(page["items"]), page["total"], page["limit"], page["offset"]) == (1, 2, 1, 1)


NAMES_IN_CODE_POINT_ORDER = ["Dr A B", "Dr Ab", "Dr Oa", "Dr Zed", "Dr Émile", "Dr Ødegård", "Dr Σοφία"]


async def test_names_are_listed_in_code_point_order_whatever_the_servers_locale(client, engine, backend) -> None:
    """As SQLite compares text: a PostgreSQL server made with a locale (the docker compose image's
    en_US) sorted "dr émile" before "dr oa" and after it on SQLite, so the two answered differently."""
    if backend == "postgresql":  # what such a server gives every text column
        await _collate_name_keys(engine, '"en-US-x-icu"')
    try:
        await create_patient(client, PATIENT)
        start = now().replace(microsecond=0) + dt.timedelta(days=1)
        for days, name in enumerate(reversed(NAMES_IN_CODE_POINT_ORDER)):
            await book(client, PATIENT, start + dt.timedelta(days=days), clinician=name, department=name)
            schedule = {"clinician": name, "department": name, "postcode": "N6 2FA", "weekdays": ["mon"],
                        "start": "09:00", "end": "10:00", "valid_from": "2099-01-01"}  # fmt: skip
            assert (await client.post("/schedules", json=schedule)).status_code == 201
        for path, field in (("/clinicians", "name"), ("/departments", "name"), ("/schedules", "clinician")):
            items = (await client.get(path)).json()["items"]
            assert [item[field] for item in items] == NAMES_IN_CODE_POINT_ORDER, path
    finally:
        if backend == "postgresql":
            await _collate_name_keys(engine, "pg_catalog.default")


async def _collate_name_keys(engine, collation: str) -> None:
    async with engine.begin() as connection:
        for name in ("clinician", "department"):
            await connection.exec_driver_sql(
                f"ALTER TABLE {name} ALTER COLUMN name_key TYPE varchar(1020) COLLATE {collation}"
            )


async def test_list_filters(client) -> None:
    await create_patient(client, PATIENT)
    await create_patient(client, OTHER)
    base = now().replace(hour=9, minute=0, second=0) + dt.timedelta(days=2)
    a = await book(client, PATIENT, base, clinician="Dr A", department="Cardiology")
    b = await book(client, OTHER, base + dt.timedelta(hours=1), clinician="Dr B", department="Oncology")
    c = await book(client, PATIENT, base + dt.timedelta(hours=2), clinician="Dr A", department="Oncology")
    d = await book(client, OTHER, base - dt.timedelta(days=5), clinician="Dr B", department="Oncology")  # missed
    e = await book(client, OTHER, base - dt.timedelta(days=6), clinician="Dr A", status="attended")
    await client.patch(f"/appointments/{c['id']}", json={"status": "cancelled"})

    async def ids(**params: str) -> list[str]:
        page = (await client.get("/appointments", params=params)).json()
        assert page["total"] == len(page["items"])
        return [item["id"] for item in page["items"]]

    assert await ids() == [e["id"], d["id"], a["id"], b["id"], c["id"]], "ordered by start"
    assert await ids(patient=dashed(PATIENT)) == [a["id"], c["id"]]
    assert await ids(clinician=" dr a ") == [e["id"], a["id"], c["id"]]
    assert await ids(department="ONCOLOGY") == [d["id"], b["id"], c["id"]]
    assert await ids(status="active") == [a["id"], b["id"]]
    assert await ids(status="missed") == [d["id"]]
    assert await ids(status="cancelled") == [c["id"]]
    assert await ids(status="attended") == [e["id"]]
    assert await ids(**{"from": iso(base + dt.timedelta(hours=1))}) == [b["id"], c["id"]], "from is inclusive"
    assert await ids(to=iso(base + dt.timedelta(hours=1))) == [e["id"], d["id"], a["id"]], "to is exclusive"
    window = {"from": iso(base), "to": iso(base + dt.timedelta(hours=2)), "clinician": "Dr A", "status": "active"}
    assert await ids(**window) == [a["id"]]
    assert await ids(clinician="Nobody") == []
    assert await ids(patient=nhs_number(5)) == []
    assert await ids(
        **{"from": (base + dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()}
    ) == [
        b["id"],
        c["id"],
    ], "from compares instants, whatever the offset"


async def test_bad_filters_are_400_naming_each(client) -> None:
    params = {"patient": "123", "status": "lost", "from": "2030-01-01T00:00:00", "to": "yesterday"}
    problem = assert_problem(await client.get("/appointments", params=params), 400)
    assert field_codes(problem) == {
        "patient": "nhs_number.format",
        "status": "status.invalid",
        "from": "from.offset_required",
        "to": "to.format",
    }


async def test_list_pagination(client) -> None:
    await create_patient(client, PATIENT)
    start = now() + dt.timedelta(days=1)
    booked = [(await book(client, PATIENT, start + dt.timedelta(hours=i)))["id"] for i in range(5)]
    page = (await client.get("/appointments", params={"limit": 2, "offset": 2})).json()
    assert [a["id"] for a in page["items"]] == booked[2:4]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)
    assert (await client.get("/appointments")).json()["limit"] == 50


async def test_patient_sub_list(client) -> None:
    await create_patient(client, PATIENT)
    await create_patient(client, OTHER)
    start = now() + dt.timedelta(days=1)
    mine = [(await book(client, PATIENT, start + dt.timedelta(hours=i), clinician=f"Dr {i}"))["id"] for i in range(3)]
    await book(client, OTHER, start, clinician="Dr Else")
    page = (await client.get(f"/patients/{spaced(PATIENT)}/appointments", params={"limit": 2})).json()
    assert [a["id"] for a in page["items"]] == mine[:2]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    assert all(a["patient"] == PATIENT for a in page["items"])
    assert_problem(await client.get(f"/patients/{nhs_number(7)}/appointments"), 404, "patient.not_found")


async def test_delete_removes_the_record(client) -> None:
    await create_patient(client, PATIENT)
    body = await book(client, PATIENT, now() + dt.timedelta(days=1))
    assert (await client.delete(f"/appointments/{body['id']}")).status_code == 204
    assert_problem(await client.get(f"/appointments/{body['id']}"), 404, "appointment.not_found")
    assert_problem(await client.delete(f"/appointments/{body['id']}"), 404, "appointment.not_found")
    assert (await client.get("/appointments")).json()["total"] == 0
    await book(client, PATIENT, now() + dt.timedelta(days=1))
