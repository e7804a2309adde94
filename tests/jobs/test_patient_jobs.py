"""Patient files through ``/jobs``: every bad row reported, counts that add up, import idempotent."""

from __future__ import annotations

from typing import Any

import pytest

from panda.examples import example_rows
from tests.jobs.helpers import encode, errors, get_job, post_job, run, run_job

pytestmark = pytest.mark.usefixtures("engine")


def patient_file() -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    """Twelve rows: five break rules (six errors), the last repeats the first (a duplicate)."""
    rows = [dict(row) for row in example_rows("example_patients.json")[:11]]
    number = rows[1]["nhs_number"]
    rows[1]["nhs_number"] = number[:9] + str((int(number[9]) + 1) % 10)
    rows[3].update(date_of_birth="2999-01-01", postcode="XYZ")
    del rows[4]["name"]
    rows[8]["email"] = "not-an-address"
    rows[10]["phone"] = "12"
    rows.append(dict(rows[0]))
    expected = [
        (2, "nhs_number", "nhs_number.checksum"),
        (4, "date_of_birth", "date_of_birth.future"),
        (4, "postcode", "postcode.format"),
        (5, "name", "field.required"),
        (9, "email", "email.format"),
        (11, "phone", "phone.format"),
    ]
    return rows, expected


def counts(job: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "total", "processed", "valid", "invalid", "duplicates", "imported")
    return {key: job[key] for key in keys}


async def stored_patients(client: Any) -> int:
    return int((await client.get("/patients?limit=1")).json()["total"])


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
async def test_validate_reports_every_bad_row_and_stores_nothing(client, sessions, settings, fmt: str) -> None:
    rows, expected = patient_file()

    job = await run_job(client, sessions, settings, "patients", "validate", encode(rows, fmt), fmt)

    assert counts(job) == {
        "status": "succeeded",
        "total": 12,
        "processed": 12,
        "valid": 7,
        "invalid": 5,
        "duplicates": 1,
        "imported": 0,
    }
    assert job["started_at"] and job["finished_at"] and job["reason"] is None
    assert [(e["row"], e["field"], e["code"]) for e in await errors(client, job["id"])] == expected
    assert await stored_patients(client) == 0


async def test_multipart_upload_is_the_same_job(client, sessions, settings) -> None:
    rows, expected = patient_file()
    response = await client.post(
        "/jobs?kind=patients&mode=validate",
        files={"file": ("patients.csv", encode(rows, "csv"), "text/csv")},
        data={"note": "ignored"},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    await run(sessions, settings, job_id)

    job = await get_job(client, job_id)
    assert (job["format"], job["valid"], job["invalid"], job["duplicates"]) == ("csv", 7, 5, 1)
    assert [(e["row"], e["field"], e["code"]) for e in await errors(client, job_id)] == expected


async def test_multipart_part_type_is_read_from_the_file_name(client, sessions, settings) -> None:
    rows, _expected = patient_file()
    body = encode(rows, "ndjson")
    files = {"file": ("patients.ndjson", body, "application/octet-stream")}
    response = await client.post("/jobs?kind=patients&mode=validate", files=files)
    assert response.status_code == 202, response.text
    assert response.json()["format"] == "ndjson"


async def test_import_twice_stores_once(client, sessions, settings) -> None:
    rows, _expected = patient_file()
    body = encode(rows, "csv")

    first = await run_job(client, sessions, settings, "patients", "import", body)
    second = await run_job(client, sessions, settings, "patients", "import", body)
    again = await run_job(client, sessions, settings, "patients", "validate", body)

    assert (first["valid"], first["duplicates"], first["imported"]) == (7, 1, 6)
    assert (second["valid"], second["duplicates"], second["imported"]) == (7, 7, 0)
    assert (again["valid"], again["duplicates"], again["imported"]) == (7, 7, 0)
    assert await stored_patients(client) == 6


async def test_imported_patients_are_stored_as_the_api_stores_them(client, sessions, settings) -> None:
    row = {"nhs_number": "943 476 5919", "name": "  Siân Llŷr ", "date_of_birth": "1970-01-01", "postcode": "cf101ep"}

    job = await run_job(client, sessions, settings, "patients", "import", encode([row], "json"), "json")

    assert job["imported"] == 1
    stored = (await client.get("/patients/9434765919")).json()
    assert (stored["name"], stored["postcode"], stored["email"]) == ("Siân Llŷr", "CF10 1EP", None)
    assert (await client.get("/patients?name=SIÂN")).json()["total"] == 1


async def test_an_empty_csv_cell_means_the_field_is_absent(client, sessions, settings) -> None:
    body = b"nhs_number,name,date_of_birth,postcode,email,phone\r\n9434765919,Ann Lee,1970-01-01,N6 2FA,,\r\n"

    job = await run_job(client, sessions, settings, "patients", "import", body)

    assert (job["valid"], job["invalid"], job["imported"]) == (1, 0, 1)


async def test_an_unknown_column_is_reported_on_every_row_that_fills_it(client, sessions, settings) -> None:
    body = (
        b"nhs_number,name,date_of_birth,postcode,nickname\r\n"
        b"9434765919,Ann Lee,1970-01-01,N6 2FA,\r\n"
        b"1373645350,Bo Li,1970-01-01,N6 2FA,Bo\r\n"
        b"\r\n"
        b'0021403597,"Cy, Dee",1970-01-01,N6 2FA,,extra\r\n'
    )

    job = await run_job(client, sessions, settings, "patients", "validate", body)

    assert (job["total"], job["valid"], job["invalid"]) == (3, 1, 2)
    found = [(e["row"], e["field"], e["code"]) for e in await errors(client, job["id"])]
    assert found == [(2, "nickname", "field.unknown"), (3, "row", "row.extra_cells")]


async def test_errors_are_localised_when_read(client, sessions, settings) -> None:
    rows, _expected = patient_file()
    job = await run_job(client, sessions, settings, "patients", "validate", encode(rows, "csv"))

    response = await client.get(f"/jobs/{job['id']}/errors", headers={"Accept-Language": "cy"})

    assert response.headers["content-language"] == "cy"
    first = response.json()["items"][0]
    assert first["code"] == "nhs_number.checksum"
    assert first["message"] == "Nid yw hwn yn rif GIG dilys: mae ei ddigid gwirio yn anghywir."


async def test_a_queued_job_shows_no_progress_yet(client) -> None:
    rows, _expected = patient_file()
    job = await post_job(client, "patients", "validate", encode(rows, "csv"))

    shown = await get_job(client, job["id"])

    assert (shown["status"], shown["total"], shown["processed"], shown["started_at"]) == ("queued", None, 0, None)
