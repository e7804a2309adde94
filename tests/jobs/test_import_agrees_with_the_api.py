"""The bulk import and ``POST /appointments`` refuse exactly the same bookings, with the same codes.

Each case is one row against the same stored state: first posted to the API on a fresh
database, then imported as a one-row file on another fresh database. The API's answer (201, or
its error code) must be the import's (imported, or the rejected row's code): status rules on
create, overlaps with stored appointments (clinician and patient, half-open intervals), an
unknown patient, historical records, and the clinician's timetable (sessions, unavailability, holds).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.emptying import empty_tables
from tests.jobs.helpers import errors, run_job

pytestmark = pytest.mark.usefixtures("engine")

PATIENTS = [
    {"nhs_number": "9434765919", "name": "Ann Lee", "date_of_birth": "1970-01-01", "postcode": "N6 2FA"},
    {"nhs_number": "1373645350", "name": "Bo Li", "date_of_birth": "1980-01-01", "postcode": "N6 2FA"},
]
HOUR = 3600.0
LONDON = ZoneInfo("Europe/London")
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def at(hours: float) -> str:
    """A start ``hours`` from now, on a whole minute (a past one when negative)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return (now + dt.timedelta(hours=hours)).isoformat()


def london(days: int, hour: int, minute: int = 0) -> str:
    """A London wall-clock time ``days`` London days from today."""
    day = dt.datetime.now(LONDON).date() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).isoformat()


def row(**fields: Any) -> dict[str, Any]:
    base = {"patient": "9434765919", "time": at(48), "duration": "1h", "clinician": "Dr A", "department": "oncology"}
    return {**base, "postcode": "N6 2FA", **fields}


# Stored first (through the API), then the case's row.
BOOKED = row(time=at(48), duration="1h")

CASES = {
    "active in the future": row(time=at(72)),
    "active in the past is stored missed": row(time=at(-72)),
    "attended in the past": row(status="attended", time=at(-72)),
    "attended in the future": row(status="attended", time=at(72)),
    "attended while running": row(status="attended", time=at(-0.5)),
    "missed in the past": row(status="missed", time=at(-72)),
    "missed in the future": row(status="missed", time=at(72)),
    "missed while running": row(status="missed", time=at(-0.5)),
    "cancelled in the future": row(status="cancelled", time=at(72)),
    "cancelled in the past": row(status="cancelled", time=at(-72)),
    "clinician overlap": row(patient="1373645350", time=at(48.5)),
    "clinician overlap, other spelling": row(patient="1373645350", clinician="  DR a ", time=at(47.5)),
    "patient overlap": row(clinician="Dr B", time=at(48.25), duration="15m"),
    "back to back": row(patient="1373645350", time=at(49)),
    "ends as the other starts": row(patient="1373645350", time=at(47)),
    "overlap ignored when not active": row(patient="1373645350", status="cancelled", time=at(48.5)),
    "unknown patient": row(patient="0021403597"),
    # SPEC §10: Dr S works 09:00-17:00 London every day, is away on day 4, and 14:00-14:30 on day 3 is held.
    "inside a session": row(clinician="Dr S", time=london(3, 10), duration="30m"),
    "outside every session": row(clinician="Dr S", time=london(3, 8, 45), duration="30m"),
    "clinician unavailable": row(clinician="dr s", time=london(4, 10), duration="30m"),
    "overlaps a hold": row(clinician="Dr S", time=london(3, 14, 15), duration="30m"),
    "history outside the schedule": row(clinician="Dr S", status="attended", time=london(-3, 20)),
    "a hold of no one": row(clinician="Dr S", time=london(3, 10), hold="00000000-0000-4000-8000-000000000000"),
}


async def _timetable(client: Any) -> None:
    schedule = {"clinician": "Dr S", "department": "oncology", "postcode": "N6 2FA", "weekdays": WEEK}
    created = await client.post("/schedules", json={**schedule, "start": "09:00", "end": "17:00"})
    assert created.status_code == 201, created.text
    away = {"clinician": "Dr S", "from": london(4, 0), "to": london(5, 0)}
    assert (await client.post("/unavailability", json=away)).status_code == 201
    hold = {"clinician": "Dr S", "time": london(3, 14), "duration": "30m"}
    assert (await client.post("/slots/holds", json=hold)).status_code == 201


async def _reset(engine: Any) -> None:
    async with engine.begin() as connection:
        await empty_tables(connection)


async def _stored_state(client: Any, sessions: Any, settings: Any) -> None:
    body = "".join(json.dumps(p) + "\n" for p in PATIENTS).encode()
    job = await run_job(client, sessions, settings, "patients", "import", body, "ndjson")
    assert job["imported"] == len(PATIENTS)
    booked = await client.post("/appointments", json=BOOKED)
    assert booked.status_code == 201, booked.text
    await _timetable(client)


async def _api_answer(client: Any, case: dict[str, Any]) -> tuple[str, str | None]:
    response = await client.post("/appointments", json=case)
    if response.status_code == 201:
        return "stored", response.json()["status"]
    return "refused", response.json()["code"]


async def _import_answer(client: Any, sessions: Any, settings: Any, case: dict[str, Any]) -> tuple[str, str | None]:
    body = (json.dumps(case) + "\n").encode()
    job = await run_job(client, sessions, settings, "appointments", "import", body, "ndjson")
    if job["imported"] == 1:
        listed = await client.get("/appointments", params={"patient": case["patient"], "limit": 500})
        starts = {item["time"]: item["status"] for item in listed.json()["items"]}
        wanted = dt.datetime.fromisoformat(case["time"]).astimezone(dt.UTC).isoformat()
        return "stored", starts[wanted]
    rejected = await errors(client, job["id"])
    assert len(rejected) == 1, rejected
    return "refused", rejected[0]["code"]


@pytest.mark.parametrize("name", list(CASES))
async def test_import_refuses_exactly_what_the_api_refuses(client, engine, sessions, settings, name: str) -> None:
    case = CASES[name]
    await _stored_state(client, sessions, settings)
    api = await _api_answer(client, case)

    await _reset(engine)
    await _stored_state(client, sessions, settings)
    imported = await _import_answer(client, sessions, settings, case)

    assert imported == api
