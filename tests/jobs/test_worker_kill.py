"""A real worker killed with ``kill -9`` in the middle of an import: the job still ends exactly right.

PostgreSQL, Redis (database 6 of the machine's server, flushed before and after) and real
prefork workers; the API runs in-process and hands the job to them through Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from api.app import create_app
from bench.job_data import write_patient_csv
from domain.config import Settings
from domain.db import make_engine
from tests.worker.conftest import flushed_redis_db
from tests.worker.processes import Process, start_worker

pytestmark = pytest.mark.slow

ROWS = 20_000
CHUNK_ROWS = 50  # many small chunks, so that the kill lands in the middle of the job
REDIS_DB = 6
FINISH_SECONDS = 180.0
TABLES = ("job_key", "job_error", "job_chunk", "job", "outbox_message", "reminder", "appointment", "patient")


@pytest.fixture
def workers() -> Iterator[list[Process]]:
    """Worker subprocesses a test starts; all stopped at its end, whatever happens."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def jobs_broker() -> Iterator[str]:
    """Redis database 6, emptied before and after."""
    yield from flushed_redis_db(REDIS_DB)


@pytest.fixture
async def pg_jobs_settings(postgres_url: str, jobs_broker: str, tmp_path: Path) -> AsyncIterator[Settings]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=postgres_url,
        broker_url=jobs_broker,
        upload_dir=tmp_path / "uploads",
        job_chunk_rows=CHUNK_ROWS,
    )
    engine = make_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    yield settings


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "BROKER_URL": settings.broker_url,
        "UPLOAD_DIR": str(settings.upload_dir),
        "JOB_CHUNK_ROWS": str(settings.job_chunk_rows),
        "LOG_LEVEL": "INFO",
    }


async def wait_for(client: AsyncTestClient[Any], job_id: str, done: Any, what: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FINISH_SECONDS
    while loop.time() < deadline:
        job = (await client.get(f"/jobs/{job_id}")).json()
        if done(job):
            return dict(job)
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_kill_9_in_the_middle_then_the_job_finishes_with_the_undisturbed_counts(
    pg_jobs_settings: Settings, workers: list[Process], tmp_path: Path
) -> None:
    settings = pg_jobs_settings
    source = tmp_path / "patients.csv"
    rejections = write_patient_csv(source, ROWS)
    first = start_worker(worker_env(settings), tmp_path, "w1")
    workers.append(first)

    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post(
            "/jobs?kind=patients&mode=import", content=source.read_bytes(), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]

        at_kill = await wait_for(client, job_id, lambda job: job["processed"] >= ROWS // 5, "progress")
        first.kill_hard()
        at_kill = (await client.get(f"/jobs/{job_id}")).json()
        assert at_kill["status"] == "running" and at_kill["processed"] < ROWS, "the kill must land mid-job"

        workers.append(start_worker(worker_env(settings), tmp_path, "w2"))
        job = await wait_for(client, job_id, lambda job: job["status"] != "running", "the job to end")

        assert {key: job[key] for key in ("status", "total", "processed", "valid", "invalid")} == {
            "status": "succeeded",
            "total": ROWS,
            "processed": ROWS,
            "valid": ROWS - len(rejections),
            "invalid": len(rejections),
        }
        assert (job["duplicates"], job["imported"]) == (0, ROWS - len(rejections))
        assert (await client.get("/patients?limit=1")).json()["total"] == ROWS - len(rejections)
        reported = []
        while len(reported) < len(rejections):
            page = (await client.get(f"/jobs/{job_id}/errors?limit=500&offset={len(reported)}")).json()
            assert page["total"] == len(rejections)
            reported.extend((e["row"], e["field"], e["code"]) for e in page["items"])
        assert reported == [(r.row, r.field, r.code) for r in rejections]
