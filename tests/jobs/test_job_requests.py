"""What ``/jobs`` refuses, files that cannot be read, and cancelling."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from domain.jobs.runner import plan_job, run_chunk
from domain.rules.reminders import ReminderPolicy
from tests.jobs.helpers import encode, get_job, post_job, run, run_job
from tests.jobs.test_patient_jobs import patient_file

pytestmark = pytest.mark.usefixtures("engine")


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("kind=doctors&mode=validate", "kind", "kind.invalid"),
        ("mode=validate", "kind", "kind.invalid"),
        ("kind=patients&mode=check", "mode", "mode.invalid"),
    ],
)
async def test_unknown_kind_or_mode_is_400(client, query: str, field: str, code: str) -> None:
    response = await client.post(f"/jobs?{query}", content=b"a,b\r\n", headers={"Content-Type": "text/csv"})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert "patients" in problem["errors"][0]["message"] or "validate" in problem["errors"][0]["message"]


@pytest.mark.parametrize("query", ["kind=doctors&mode=check", "", "kind=&mode="])
async def test_a_bad_kind_and_a_bad_mode_are_named_in_one_400(client, query: str) -> None:
    """SPEC §5: the errors name every bad field at once (the mode went unchecked while the kind was bad)."""
    response = await client.post(f"/jobs?{query}", content=b"a,b\r\n", headers={"Content-Type": "text/csv"})

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("kind", "kind.invalid"),
        ("mode", "mode.invalid"),
    ]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "image/png"])
async def test_unsupported_content_type_is_415(client, content_type: str) -> None:
    response = await client.post(
        "/jobs?kind=patients&mode=validate", content=b"x", headers={"Content-Type": content_type}
    )

    assert response.status_code == 415
    assert response.json()["code"] == "content_type.unsupported"


async def test_multipart_without_a_file_field_is_400(client) -> None:
    response = await client.post("/jobs?kind=patients&mode=validate", files={"upload": ("p.csv", b"a\r\n", "text/csv")})

    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("file", "upload.file_missing")]


async def test_multipart_file_of_an_unsupported_type_is_415(client) -> None:
    response = await client.post(
        "/jobs?kind=patients&mode=validate", files={"file": ("p.xlsx", b"PK", "application/zip")}
    )

    assert response.status_code == 415


async def test_an_upload_over_the_limit_is_413_and_leaves_no_file(settings, engine) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 1000})
    async with AsyncTestClient(app=create_app(small)) as client:
        response = await client.post(
            "/jobs?kind=patients&mode=validate", content=b"x" * 5000, headers={"Content-Type": "text/csv"}
        )

    assert response.status_code == 413
    assert response.json()["code"] == "body.too_large"
    assert not any(Path(small.upload_dir).glob("*"))


async def test_uploads_may_be_larger_than_the_json_limit(client, settings) -> None:
    rows = [{"nhs_number": "9434765919", "name": "N" * 200, "date_of_birth": "1970-01-01", "postcode": "N6 2FA"}] * 6000
    body = encode(rows, "csv")
    assert len(body) > settings.max_json_body_bytes

    job = await post_job(client, "patients", "validate", body)

    assert job["size"] == len(body)


@pytest.mark.parametrize(
    ("body", "fmt", "reason"),
    [
        (b'nhs_number,name\r\n"9434765919,Ann\r\n', "csv", "file.csv_malformed"),
        (b"nhs_number,nhs_number\r\n9434765919,9434765919\r\n", "csv", "file.csv_header"),
        (b"nhs_number,\xff\xfe\r\n", "csv", "file.encoding"),
        (b"", "csv", "file.empty"),
        (b'[{"nhs_number": "9434765919"},', "json", "file.json_malformed"),
        (b'{"nhs_number": "9434765919"}', "json", "file.json_malformed"),
        (b"  \n\n", "ndjson", "file.empty"),
    ],
)
async def test_a_file_that_cannot_be_parsed_fails_the_job_with_a_reason(
    client, sessions, settings, body: bytes, fmt: str, reason: str
) -> None:
    job = await run_job(client, sessions, settings, "patients", "import", body, fmt)

    assert job["status"] == "failed"
    assert job["reason"]["code"] == reason
    assert job["reason"]["message"]
    assert (job["processed"], job["imported"], job["finished_at"] is not None) == (0, 0, True)
    assert not any(Path(settings.upload_dir).glob("*")), "the upload is deleted when the job ends"


async def test_malformed_ndjson_lines_are_rejected_rows(client, sessions, settings) -> None:
    body = b'{"nhs_number": "9434765919", "name": "A", "date_of_birth": "1970-01-01", "postcode": "N6 2FA"}\n'
    body += b'{"nhs_number": \n[1, 2]\n\n"text"\n'

    job = await run_job(client, sessions, settings, "patients", "validate", body, "ndjson")

    assert (job["status"], job["total"], job["valid"], job["invalid"]) == ("succeeded", 4, 1, 3)
    found = (await client.get(f"/jobs/{job['id']}/errors")).json()["items"]
    assert [(e["row"], e["code"]) for e in found] == [
        (2, "row.malformed_json"),
        (3, "row.not_object"),
        (4, "row.not_object"),
    ]


async def test_a_cancelled_job_stops(client, sessions, settings) -> None:
    rows, _expected = patient_file()
    job = await post_job(client, "patients", "import", encode(rows * 2, "csv"))
    job_id = uuid.UUID(job["id"])
    chunks = await plan_job(sessions, job_id, settings)
    assert len(chunks) == 4
    await run_chunk(sessions, job_id, chunks[0], ReminderPolicy())

    response = await client.delete(f"/jobs/{job['id']}")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    for seq in chunks[1:]:
        assert await run_chunk(sessions, job_id, seq, ReminderPolicy()) == "skipped"

    shown = await get_job(client, job["id"])
    assert (shown["status"], shown["processed"]) == ("cancelled", 7)
    stored = (await client.get("/patients?limit=1")).json()["total"]
    assert stored == shown["imported"] > 0
    assert not any(Path(settings.upload_dir).glob("*"))
    assert (await client.delete(f"/jobs/{job['id']}")).status_code == 200  # cancelling again changes nothing


async def test_a_finished_job_cannot_be_cancelled(client, sessions, settings) -> None:
    rows, _expected = patient_file()
    job = await run_job(client, sessions, settings, "patients", "validate", encode(rows, "csv"))

    response = await client.delete(f"/jobs/{job['id']}")

    assert response.status_code == 409
    assert response.json()["code"] == "job.not_cancellable"


@pytest.mark.parametrize("job_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_unknown_jobs_are_404(client, job_id: str) -> None:
    for response in (
        await client.get(f"/jobs/{job_id}"),
        await client.get(f"/jobs/{job_id}/errors"),
        await client.delete(f"/jobs/{job_id}"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "job.not_found"


async def test_a_queued_job_is_planned_again_without_harm(client, sessions, settings) -> None:
    rows, _expected = patient_file()
    job = await post_job(client, "patients", "validate", encode(rows, "csv"))
    first = await plan_job(sessions, uuid.UUID(job["id"]), settings)
    second = await plan_job(sessions, uuid.UUID(job["id"]), settings)

    assert first == second == [0, 1]
    assert (await get_job(client, job["id"]))["total"] == 12


@pytest.mark.parametrize(("body", "fmt"), [(b"nhs_number,name,date_of_birth,postcode\r\n", "csv"), (b"[]", "json")])
async def test_a_file_with_no_rows_succeeds_with_nothing_to_do(
    client, sessions, settings, body: bytes, fmt: str
) -> None:
    job = await run_job(client, sessions, settings, "patients", "import", body, fmt)

    assert (job["status"], job["total"], job["processed"], job["imported"]) == ("succeeded", 0, 0, 0)


async def test_a_failed_job_gives_its_reason_in_the_clients_language(client, sessions, settings) -> None:
    job = await post_job(client, "patients", "validate", b"\xff", "csv")
    await run(sessions, settings, job["id"])

    response = await client.get(f"/jobs/{job['id']}", headers={"Accept-Language": "fr"})

    assert response.headers["content-language"] == "fr"
    assert response.json()["reason"] == {"code": "file.encoding", "message": "Le fichier n'est pas un texte UTF-8."}
