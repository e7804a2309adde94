"""Uploads cannot exhaust the API: no connection held while streaming, bounded waits for one,
a bounded number of uploads at once, a free-space check, and no file left behind."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from api.app import create_app
from api.job_queue import JobQueue
from domain.config import Settings
from domain.db import make_engine
from domain.jobs import runner, store
from domain.jobs.files import bytes_needed
from domain.sql import SessionRunner
from tests.jobs.helpers import encode, post_job
from tests.jobs.serving import files_in, serving, start_slow_upload, until

pytestmark = pytest.mark.usefixtures("engine")

SLOW_UPLOADS = 25
ROOT = Path(__file__).parent.parent.parent
ROW = {"nhs_number": "9434765919", "name": "Slow Upload", "date_of_birth": "1970-01-01", "postcode": "N6 2FA"}
BODY = encode([ROW] * 3, "csv")


def _small_pool(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"db_pool_size": 1, "db_acquire_timeout_seconds": 0.5, **changes})


async def test_slow_uploads_hold_no_connection_and_others_are_served(settings: Settings) -> None:
    settings = _small_pool(settings, max_concurrent_uploads=SLOW_UPLOADS)
    app = create_app(settings)
    async with serving(app) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        uploads = [await start_slow_upload(port, BODY) for _ in range(SLOW_UPLOADS)]
        # Every upload is streaming into its file (past its dependencies) while the others wait.
        await until(lambda: len(files_in(settings.upload_dir)) == SLOW_UPLOADS, "every upload to stream")

        for _ in range(3):
            answer = await client.get(f"/jobs/{uuid.uuid4()}")
            assert answer.status_code == 404, answer.text
            assert (await client.get("/patients/9434765919")).status_code == 404

        # One after another: the point is that none held a connection while streaming. Finished
        # all at once they would queue for the pool's two connections, and on a loaded machine
        # the last could rightly wait past the half-second acquire timeout (a 503).
        statuses = [await upload.finish() for upload in uploads]
    assert statuses == [202] * SLOW_UPLOADS


async def test_more_uploads_than_allowed_at_once_are_429_with_retry_after(settings: Settings) -> None:
    settings = settings.model_copy(update={"max_concurrent_uploads": 2})
    async with serving(create_app(settings)) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        streaming = [await start_slow_upload(port, BODY) for _ in range(2)]
        await until(lambda: len(files_in(settings.upload_dir)) == 2, "two uploads to stream")

        refused = await client.post(
            "/jobs?kind=patients&mode=validate",
            content=BODY,
            headers={"Content-Type": "text/csv", "Accept-Language": "cy"},
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert refused.headers["content-language"] == "cy"
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "upload.too_many"
        assert len(files_in(settings.upload_dir)) == 2, "the refused upload stored nothing"

        assert [await upload.finish() for upload in streaming] == [202, 202]
        again = await client.post(
            "/jobs?kind=patients&mode=validate", content=BODY, headers={"Content-Type": "text/csv"}
        )
        assert again.status_code == 202, "a slot is free again once an upload ends"


async def test_an_upload_that_would_fill_the_disk_is_507(settings: Settings) -> None:
    settings = settings.model_copy(update={"min_free_disk_bytes": 10**18})
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.post(
            "/jobs?kind=patients&mode=validate", content=BODY, headers={"Content-Type": "text/csv"}
        )

    assert response.status_code == 507
    assert response.json()["code"] == "upload.insufficient_storage"
    assert response.json()["detail"]
    assert files_in(settings.upload_dir) == []


def test_a_json_upload_counts_its_ndjson_copy_against_free_space() -> None:
    assert bytes_needed(1000, json_possible=False, max_upload_bytes=10**6) == 1000
    assert bytes_needed(1000, json_possible=True, max_upload_bytes=10**6) == 2000
    assert bytes_needed(None, json_possible=False, max_upload_bytes=10**6) == 10**6, "undeclared: the limit"


@contextlib.asynccontextmanager
async def _exhausted_engine(engine: AsyncEngine) -> AsyncIterator[None]:
    """Check out every connection the engine's pool gives, until it refuses one."""
    held: list[AsyncConnection] = []
    try:
        while True:
            try:
                held.append(await engine.connect())
            except PoolTimeout:
                break
        yield
    finally:
        for connection in held:
            await connection.close()


@contextlib.asynccontextmanager
async def _exhausted_driver_pool(app: Litestar) -> AsyncIterator[None]:
    """Acquire every connection of the API's asyncpg pool, until it times out."""
    pool = app.state.driver_pool
    held = []
    try:
        while True:
            try:
                held.append(await pool.acquire(timeout=0.5))
            except TimeoutError:
                break
        yield
    finally:
        for connection in held:
            await pool.release(connection)


def _app_engine(app: Litestar) -> AsyncEngine:
    return next(value for value in app.state.dict().values() if isinstance(value, AsyncEngine))


def _assert_unavailable(response: httpx.Response, language: str = "cy") -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-language"] == language
    assert response.json()["code"] == "service.unavailable"


ACQUIRE_TIMEOUT = 2.0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_exhausted_driver_pool_is_503_with_retry_after(settings: Settings) -> None:
    app = create_app(_small_pool(settings, db_acquire_timeout_seconds=ACQUIRE_TIMEOUT))
    async with (
        serving(app) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
        _exhausted_driver_pool(app),
    ):
        asked = time.monotonic()
        response = await client.get("/patients/9434765919", headers={"Accept-Language": "cy"})
        waited = time.monotonic() - asked
        _assert_unavailable(response)
        # Answered once the request's own wait is over: its audit event does not wait again.
        assert ACQUIRE_TIMEOUT - 0.2 < waited < ACQUIRE_TIMEOUT * 1.5, waited
        upload = await client.post(
            "/jobs?kind=patients&mode=validate",
            content=BODY,
            headers={"Content-Type": "text/csv", "Accept-Language": "cy"},
        )
        _assert_unavailable(upload)
    assert files_in(settings.upload_dir) == [], "an upload whose job could not be recorded is deleted"


async def test_an_exhausted_engine_pool_is_503_with_retry_after(settings: Settings) -> None:
    app = create_app(_small_pool(settings))
    async with (
        serving(app) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        _exhausted_engine(_app_engine(app)),
    ):
        # Reminder reads run on a session of the engine on both databases (not on the driver pool).
        _assert_unavailable(await client.get("/outbox", headers={"Accept-Language": "cy"}))
        if settings.is_sqlite:  # uploads record their job through the engine there
            upload = await client.post(
                "/jobs?kind=patients&mode=validate",
                content=BODY,
                headers={"Content-Type": "text/csv", "Accept-Language": "cy"},
            )
            _assert_unavailable(upload)
            assert files_in(settings.upload_dir) == []


@contextlib.asynccontextmanager
async def _job_inserts_refused(engine: AsyncEngine, sqlite: bool) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        if sqlite:
            await connection.execute(
                text("CREATE TRIGGER refuse_jobs BEFORE INSERT ON job BEGIN SELECT RAISE(ABORT, 'refused'); END")
            )
        else:
            await connection.execute(text("ALTER TABLE job ADD CONSTRAINT refuse_jobs CHECK (false) NOT VALID"))
    try:
        yield
    finally:
        async with engine.begin() as connection:
            if sqlite:
                await connection.execute(text("DROP TRIGGER refuse_jobs"))
            else:
                await connection.execute(text("ALTER TABLE job DROP CONSTRAINT refuse_jobs"))


async def test_the_upload_is_deleted_when_its_job_cannot_be_recorded(client, engine, settings: Settings) -> None:
    async with _job_inserts_refused(engine, settings.is_sqlite):
        response = await client.post(
            "/jobs?kind=patients&mode=validate", content=BODY, headers={"Content-Type": "text/csv"}
        )
    assert response.status_code >= 500
    assert files_in(settings.upload_dir) == []


async def test_orphaned_uploads_are_swept_when_the_api_starts(client, settings: Settings) -> None:
    job = await post_job(client, "patients", "validate", BODY)  # queued: a live job's file stays
    directory = Path(settings.upload_dir)
    live = directory / job["id"]
    orphan, orphan_copy = directory / str(uuid.uuid4()), directory / f"{uuid.uuid4()}.ndjson"
    stray = directory / "not-a-job"
    writing = directory / str(uuid.uuid4())  # an upload another process is streaming right now
    for path in (orphan, orphan_copy, stray, writing):
        path.write_bytes(b"nhs_number\r\n")

    with writing.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        async with AsyncTestClient(app=create_app(settings)):
            pass

    assert sorted(files_in(directory)) == sorted([live, writing])


async def test_the_plan_task_is_sent_only_once_the_job_is_committed(client, settings, monkeypatch) -> None:
    seen: list[str | None] = []

    async def submit(_queue: JobQueue, job_id: uuid.UUID) -> None:
        # What a worker would find at the moment the task goes out: read on a connection of its own.
        worker_engine = make_engine(settings)
        async with AsyncSession(worker_engine) as session:
            seen.append(await store.job_status(SessionRunner(session), job_id))
        await worker_engine.dispose()

    monkeypatch.setattr(JobQueue, "submit", submit)
    await post_job(client, "patients", "validate", BODY)

    assert seen == ["queued"]


async def test_a_job_accepted_while_the_broker_is_down_waits_queued_and_is_sent_later(
    client, settings, sessions, monkeypatch
) -> None:
    async def broker_down(_queue: JobQueue, _job_id: uuid.UUID) -> None:
        raise ConnectionRefusedError

    monkeypatch.setattr(JobQueue, "submit", broker_down)
    job = await post_job(client, "patients", "validate", BODY)  # 202, queued: the upload is kept

    async with sessions() as session:
        events = await session.execute(
            text("SELECT action, outcome FROM audit_event WHERE resource_id = :id"), {"id": job["id"]}
        )
        assert [tuple(e) for e in events] == [("import", 202)], "one request, one event"
    # What the scheduler's stalled-job check sends once the job has waited JOB_STALL_SECONDS: its plan.
    work = await runner.unfinished_work(sessions, dt.timedelta(0))
    assert (uuid.UUID(job["id"]), None) in work
    assert (await client.get(f"/jobs/{job['id']}")).json()["status"] == "queued"


def test_the_api_sends_jobs_without_importing_the_worker() -> None:
    code = (
        "import sys; from api.app import create_app; from domain.broker import make_client;"
        "from domain.config import Settings; from domain.jobs.tasks import PLAN_TASK;"
        "client = make_client(Settings(broker_url='redis://127.0.0.1:1/0'));"
        "print(client.amqp.router.route({}, PLAN_TASK)['queue'].name,"
        " any(m.split('.')[0] == 'worker' for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.split() == ["jobs", "False"], "the plan task goes to the jobs queue; worker/ never loaded"
