"""The client's shipped example data: every object POSTs as it is and reads back exactly."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from typing import Any

from panda.examples import example_rows, load_examples
from tests.factories import parse_instant

PATIENTS = example_rows("example_patients.json")
APPOINTMENTS = example_rows("example_appointments.json")
CANONICAL_DURATION = re.compile(r"(?:[1-9]\d*h)?(?:[1-5]?\d m)?".replace(" ", ""))


def _expected_postcode(raw: str) -> str:
    compact = "".join(raw.split()).upper()
    return f"{compact[:-3]} {compact[-3:]}"


def _expected_status(row: dict[str, Any], minutes: int) -> str:
    end = dt.datetime.fromisoformat(row["time"]) + dt.timedelta(minutes=minutes)
    if row["status"] == "active" and end <= dt.datetime.now(dt.UTC):
        return "missed"
    return str(row["status"])


def _minutes(duration: str) -> int:
    hours = re.search(r"(\d+)h", duration)
    minutes = re.search(r"(\d+)m", duration)
    return (int(hours.group(1)) * 60 if hours else 0) + (int(minutes.group(1)) if minutes else 0)


async def _post_all(client: Any) -> None:
    for path, rows in (("/patients", PATIENTS), ("/appointments", APPOINTMENTS)):
        for row in rows:
            response = await client.post(path, json=row)
            assert response.status_code == 201, (path, response.json().get("errors") or response.json().get("code"))


async def test_every_example_is_accepted_and_reads_back_exactly(client) -> None:
    assert (len(PATIENTS), len(APPOINTMENTS)) == (100, 100)
    await _post_all(client)

    for row in PATIENTS:
        stored = (await client.get(f"/patients/{row['nhs_number']}")).json()
        assert stored["nhs_number"] == "".join(ch for ch in row["nhs_number"] if ch.isdigit())
        assert stored["name"].encode() == unicodedata.normalize("NFC", row["name"].strip()).encode()
        assert stored["date_of_birth"] == row["date_of_birth"]
        assert stored["postcode"] == _expected_postcode(row["postcode"])

    for row in APPOINTMENTS:
        stored = (await client.get(f"/appointments/{row['id']}")).json()
        minutes = _minutes(row["duration"])
        assert stored["patient"] == row["patient"]
        assert parse_instant(stored["time"]) == dt.datetime.fromisoformat(row["time"]), row["id"]
        assert parse_instant(stored["end"]) == dt.datetime.fromisoformat(row["time"]) + dt.timedelta(minutes=minutes)
        assert _minutes(stored["duration"]) == minutes
        assert CANONICAL_DURATION.fullmatch(stored["duration"]), stored["duration"]
        assert stored["status"] == _expected_status(row, minutes), row["id"]
        assert (stored["clinician"], stored["department"]) == (row["clinician"], row["department"])
        assert stored["postcode"] == _expected_postcode(row["postcode"])


async def test_example_lists_count_every_record(client) -> None:
    await _post_all(client)
    assert (await client.get("/patients", params={"limit": 500})).json()["total"] == 100
    listed = (await client.get("/appointments", params={"limit": 500})).json()
    assert listed["total"] == 100
    expected = Counter(_expected_status(row, _minutes(row["duration"])) for row in APPOINTMENTS)
    assert Counter(item["status"] for item in listed["items"]) == expected
    missed = (await client.get("/appointments", params={"status": "missed", "limit": 500})).json()
    assert missed["total"] == expected["missed"]
    clinicians = (await client.get("/clinicians", params={"limit": 500})).json()
    assert sum(c["appointments"] for c in clinicians["items"]) == 100
    assert clinicians["total"] == len({" ".join(r["clinician"].split()).casefold() for r in APPOINTMENTS})


async def test_load_examples_stores_every_record(sessions, client) -> None:
    outcome = await load_examples(sessions)
    assert outcome == {"patients": Counter(stored=100), "appointments": Counter(stored=100)}
    assert (await client.get("/patients")).json()["total"] == 100
    assert (await client.get("/appointments")).json()["total"] == 100
    again = await load_examples(sessions)
    assert again == {
        "patients": Counter({"patient.duplicate": 100}),
        "appointments": Counter({"appointment.duplicate_id": 100}),
    }
