"""A real worker killed with ``kill -9`` in the middle of an import: the job still ends exactly right,
whether a worker starts again or another one was running all along.

PostgreSQL, Redis (this test process's database of the machine's server, flushed before and after) and real
prefork workers; the API runs in-process and hands the job to them through Redis.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from bench.job_data import write_patient_csv
from domain.config import Settings
from domain.db import make_engine
from tests.emptying import empty_tables
from tests.worker.conftest import _redis_db, flushed_redis_db
from tests.worker.processes import Process, start_beat, start_worker

pytestmark = pytest.mark.slow

ROWS = 20_000
CHUNK_ROWS = 50  # four hundred small chunks, so that the kill lands in the middle of the job
FINISH_SECONDS = 180.0


@pytest.fixture
def workers() -> Iterator[list[Process]]:
    """Worker subprocesses a test starts; all stopped at its end, whatever happens."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def jobs_broker() -> Iterator[str]:
    """This test process's Redis database, emptied before and after."""
    yield from flushed_redis_db(_redis_db())


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
        await empty_tables(connection)
    await engine.dispose()
    yield settings


def worker_env(settings: Settings, **more: str) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "BROKER_URL": settings.broker_url,
        "UPLOAD_DIR": str(settings.upload_dir),
        "JOB_CHUNK_ROWS": str(settings.job_chunk_rows),
        "LOG_LEVEL": "INFO",
        **more,
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


async def _start_import(client: AsyncTestClient[Any], source: Path) -> str:
    response = await client.post(
        "/jobs?kind=patients&mode=import", content=source.read_bytes(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def _kill_mid_job(client: AsyncTestClient[Any], job_id: str, worker: Process) -> None:
    await wait_for(client, job_id, lambda job: job["processed"] >= ROWS // 5, "progress")
    worker.kill_hard()
    at_kill = (await client.get(f"/jobs/{job_id}")).json()
    assert at_kill["status"] == "running" and at_kill["processed"] < ROWS, "the kill must land mid-job"


async def _assert_undisturbed(client: AsyncTestClient[Any], job_id: str, rejections: list[Any]) -> None:
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


async def test_kill_9_in_the_middle_then_the_job_finishes_with_the_undisturbed_counts(
    pg_jobs_settings: Settings, workers: list[Process], tmp_path: Path
) -> None:
    settings = pg_jobs_settings
    source = tmp_path / "patients.csv"
    rejections = write_patient_csv(source, ROWS)
    workers.append(start_worker(worker_env(settings), tmp_path, "w1"))

    async with AsyncTestClient(app=create_app(settings)) as client:
        job_id = await _start_import(client, source)
        await _kill_mid_job(client, job_id, workers[0])
        workers.append(start_worker(worker_env(settings), tmp_path, "w2"))
        await _assert_undisturbed(client, job_id, rejections)


async def test_a_worker_killed_while_another_runs_on_loses_no_chunk(
    pg_jobs_settings: Settings, workers: list[Process], tmp_path: Path
) -> None:
    """No worker starts again, so nothing resumes on start: the scheduler notices the stall instead
    (the broker alone would hold the killed worker's chunks back for its visibility timeout, hours)."""
    settings = pg_jobs_settings
    source = tmp_path / "patients.csv"
    rejections = write_patient_csv(source, ROWS)
    env = worker_env(settings, SCHEDULER_INTERVAL="1", JOB_STALL_SECONDS="3")
    workers.extend([start_worker(env, tmp_path, "w1"), start_worker(env, tmp_path, "w2")])
    workers.append(start_beat(env, tmp_path))

    async with AsyncTestClient(app=create_app(settings)) as client:
        job_id = await _start_import(client, source)
        await _kill_mid_job(client, job_id, workers[0])
        await _assert_undisturbed(client, job_id, rejections)
        # The survivor ran the stall check. Whether it found a chunk to resume depends on where the
        # kill landed (between two chunks the dead worker held none): the counts above are the proof.
        checked = re.compile(r"panda\.jobs\.resume_stalled\[[^]]+\] succeeded in [0-9.]+s: [0-9]")
        assert checked.search(workers[1].log()), "the survivor must have run the stall check"
