"""A chunk that kills its worker every time is not redelivered forever: after
``JOB_MAX_REDELIVERIES`` lost runs (counted in the database) its job ends ``failed``.

Real prefork workers on Redis (this test run's own database) and PostgreSQL; the API runs
in-process and hands the job to them through Redis. Also: a worker's start sweeps orphaned uploads.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

import tests
from api.app import create_app
from domain.config import Settings
from domain.db import make_engine
from tests.emptying import empty_tables
from tests.factories import nhs_number
from tests.jobs.helpers import encode
from tests.worker.conftest import _redis_db, flushed_redis_db
from tests.worker.processes import WORKER_READY, Process, start

CHUNK_ROWS = 5
MAX_REDELIVERIES = 2
KILLED_SEQ = 1
FINISH_SECONDS = 120.0
PROJECT_ROOT = Path(tests.__file__).parent.parent


@pytest.fixture
def workers() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
async def job_settings(postgres_url: str, tmp_path: Path) -> Any:
    for broker_url in flushed_redis_db(_redis_db()):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=postgres_url,
            broker_url=broker_url,
            upload_dir=tmp_path / "uploads",
            job_chunk_rows=CHUNK_ROWS,
            job_max_redeliveries=MAX_REDELIVERIES,
        )
        engine = make_engine(settings)
        async with engine.begin() as connection:
            await empty_tables(connection)
        await engine.dispose()
        yield settings


def _start_dying_worker(settings: Settings, workdir: Path) -> Process:
    env = {
        "DATABASE_URL": settings.database_url,
        "BROKER_URL": settings.broker_url,
        "UPLOAD_DIR": str(settings.upload_dir),
        "JOB_CHUNK_ROWS": str(CHUNK_ROWS),
        "JOB_MAX_REDELIVERIES": str(MAX_REDELIVERIES),
        "PANDA_TEST_KILL_CHUNK": str(KILLED_SEQ),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]),
        "LOG_LEVEL": "INFO",
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "--include=tests.jobs.chunk_killer",
        "--pool=prefork", "--concurrency=1", "--hostname=dying@%h", "--loglevel=INFO",
        "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    process = start("dying", argv, env, workdir / "dying")
    process.wait_for(WORKER_READY)
    # A worker's start sends again the work of every unfinished job (panda.jobs.resume). A job
    # posted while that runs may be planned twice, and each copy of the killed chunk then dies and
    # is counted on its own: legitimate at-least-once delivery, but not the count this test
    # asserts. The resume is the first task the worker finishes.
    process.wait_for("succeeded in")
    finished = [line for line in process.log().splitlines() if "succeeded in" in line]
    assert "Task panda.jobs.resume[" in finished[0], finished
    return process


async def _until_ended(client: AsyncTestClient[Any], job_id: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FINISH_SECONDS
    while loop.time() < deadline:
        job = (await client.get(f"/jobs/{job_id}")).json()
        if job["status"] not in ("queued", "running"):
            return dict(job)
        await asyncio.sleep(0.05)
    raise AssertionError("the job never ended: its chunk is redelivered forever")


async def test_a_chunk_that_kills_its_worker_fails_the_job_after_bounded_redeliveries(
    job_settings: Settings, workers: list[Process], tmp_path: Path
) -> None:
    settings = job_settings
    orphan = Path(settings.upload_dir) / str(uuid.uuid4())
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    rows = [
        {"nhs_number": nhs_number(i), "name": f"Row {i}", "date_of_birth": "1970-01-01", "postcode": "N1 9GU"}
        for i in range(3 * CHUNK_ROWS)
    ]
    workers.append(_start_dying_worker(settings, tmp_path))

    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post(
            "/jobs?kind=patients&mode=validate", content=encode(rows, "csv"), headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 202, response.text
        job = await _until_ended(client, response.json()["id"])

    assert job["status"] == "failed"
    assert job["reason"]["code"] == "job.redelivered_too_often"
    assert job["reason"]["message"]
    engine = make_engine(settings)
    async with engine.connect() as connection:
        lost = (
            await connection.execute(
                text("SELECT lost_runs FROM job_chunk WHERE job_id = :job AND seq = :seq"),
                {"job": uuid.UUID(job["id"]), "seq": KILLED_SEQ},
            )
        ).scalar()
    await engine.dispose()
    assert lost == MAX_REDELIVERIES + 1, "the deaths and the delivery that failed the job, counted in the database"
    log = workers[0].log()
    assert log.count("exited with 'exitcode 137'") >= MAX_REDELIVERIES, log[-3000:]
    # The failed status commits first, then the worker deletes the job's keys and file.
    assert await _emptied(Path(settings.upload_dir)), "the job's upload is deleted, the orphan swept at start"


async def _emptied(folder: Path, within: float = 10.0) -> bool:
    """Whether ``folder`` holds no file within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while any(folder.iterdir()):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
