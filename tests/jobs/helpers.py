"""Uploading files to ``/jobs``, running the job as a worker would, and reading the outcome."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.config import Settings
from domain.jobs.runner import run_here

CONTENT_TYPES = {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson"}
PATIENT_FIELDS = ["nhs_number", "name", "date_of_birth", "postcode", "email", "phone"]


def encode(rows: list[dict[str, Any]], fmt: str, fields: list[str] | None = None) -> bytes:
    """Write rows as CSV (header first, absent fields as empty cells), a JSON array or NDJSON."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fields or PATIENT_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode()
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False).encode()
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


async def post_job(
    client: AsyncTestClient[Any], kind: str, mode: str, body: bytes, fmt: str = "csv", **headers: str
) -> dict[str, Any]:
    """Upload a file as the raw body; assert 202 and the ``Location``; return the job."""
    response = await client.post(
        f"/jobs?kind={kind}&mode={mode}", content=body, headers={"Content-Type": CONTENT_TYPES[fmt], **headers}
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/jobs/{job['id']}"
    assert job["status"] == "queued"
    return dict(job)


async def run(sessions: async_sessionmaker[Any], settings: Settings, job_id: str) -> None:
    """Do every step of the job here, as the workers would."""
    async for _rows in run_here(sessions, uuid.UUID(job_id), settings):
        pass


async def get_job(client: AsyncTestClient[Any], job_id: str) -> dict[str, Any]:
    """The job as ``GET /jobs/{id}`` shows it."""
    response = await client.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def errors(client: AsyncTestClient[Any], job_id: str, **headers: str) -> list[dict[str, Any]]:
    """Every rejected row, read page by page."""
    found: list[dict[str, Any]] = []
    while True:
        response = await client.get(f"/jobs/{job_id}/errors?limit=5&offset={len(found)}", headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["items"])
        if len(found) >= page["total"]:
            return found


async def run_job(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[Any],
    settings: Settings,
    kind: str,
    mode: str,
    body: bytes,
    fmt: str = "csv",
) -> dict[str, Any]:
    """Upload, run and read back a job."""
    job = await post_job(client, kind, mode, body, fmt)
    await run(sessions, settings, job["id"])
    return await get_job(client, job["id"])
