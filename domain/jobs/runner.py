"""Running a job: plan it into chunks, then do each chunk once, whatever is delivered twice or killed.

Every step is idempotent. The plan stores the chunks only if no other delivery did. A chunk's
results (counts, rejected rows, stored rows) are written in one transaction that also marks
it done, so a chunk re-run after a ``kill -9`` either finds it done or redoes it from scratch:
never a double count. The job's counts are the sums over its done chunks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import utcnow
from domain.config import Settings
from domain.jobs import appointments, patients, store
from domain.jobs.files import remove_upload
from domain.jobs.formats import Format, JobStatus, Kind, Mode, UnreadableFile
from domain.jobs.outcome import ChunkOutcome
from domain.jobs.readers import Row, read_span
from domain.jobs.scan import Span, plan_spans
from domain.rules.reminders import ReminderPolicy
from domain.sql import SessionRunner

Sessions = async_sessionmaker[AsyncSession]
log = structlog.get_logger("panda.jobs")


async def plan_job(sessions: Sessions, job_id: uuid.UUID, settings: Settings) -> list[int]:
    """Scan the upload, store its chunks; return the chunks to run (none if the job is over)."""
    async with sessions() as session, session.begin():
        sql = SessionRunner(session)
        job = await store.job_row(sql, job_id)
        if job is None or job["status"] not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return []
        if job["total"] is not None:
            return await store.pending_chunks(sql, job_id)
        await store.start(sql, job_id, utcnow())
    try:
        spans = plan_spans(Path(job["path"]), Format(job["format"]), settings.job_chunk_rows)
    except UnreadableFile as exc:
        await fail_job(sessions, job_id, exc.code, exc.params)
        return []
    except FileNotFoundError:
        await fail_job(sessions, job_id, "file.missing", {})
        return []
    async with sessions() as session, session.begin():
        sql = SessionRunner(session)
        if await store.save_plan(sql, job_id, spans, utcnow()):
            pending = list(range(len(spans)))
        else:
            pending = await store.pending_chunks(sql, job_id)
    log.info("job_planned", job_id=str(job_id), rows=sum(s.rows for s in spans), chunks=len(spans))
    if not pending:
        await finish(sessions, job_id)
    return pending


async def run_chunk(sessions: Sessions, job_id: uuid.UUID, seq: int, reminders: ReminderPolicy) -> str:
    """Do one chunk (unless done or the job is over); return what happened, for the task's result."""
    async with sessions() as session:
        sql = SessionRunner(session)
        job = await store.job_row(sql, job_id)
        chunk = await store.chunk(sql, job_id, seq)
    if job is None or chunk is None or job["status"] != JobStatus.RUNNING:
        return "skipped"
    if chunk["status"] == store.DONE:
        await finish(sessions, job_id)
        return "already-done"
    span = Span(chunk["start_byte"], chunk["end_byte"], chunk["first_row"], chunk["rows"])
    try:
        rows = read_span(Path(job["path"]), Format(job["format"]), span)
    except UnreadableFile as exc:
        await fail_job(sessions, job_id, exc.code, exc.params)
        return "failed"
    except FileNotFoundError:
        # Cancelled meanwhile (the upload is deleted then), or the upload was lost.
        await fail_job(sessions, job_id, "file.missing", {})
        return "failed"
    done = await _settle(sessions, job, seq, rows, reminders)
    await finish(sessions, job_id)
    return "done" if done else "already-done"


async def _settle(
    sessions: Sessions, job: Mapping[str, Any], seq: int, rows: list[Row], reminders: ReminderPolicy
) -> bool:
    job_id = job["id"]
    importing = job["mode"] == Mode.IMPORT
    kind = Kind(job["kind"])
    if kind is Kind.PATIENTS:
        # The rules need no database: run them before the transaction, which then stays short.
        valid, outcome = patients.check_rows(rows)
    async with sessions() as session, session.begin():
        sql = SessionRunner(session)
        # Shared lock: a cancel waits for this chunk, and after it no chunk stores anything.
        if await store.job_status(sql, job_id, shared_lock=True) != JobStatus.RUNNING:
            return False
        if not await store.claim_chunk(sql, job_id, seq, utcnow()):
            return False
        if kind is Kind.PATIENTS:
            await patients.settle(sql, job_id, importing, valid, outcome)
        else:
            outcome = await appointments.settle(sql, job_id, importing, rows, utcnow(), reminders)
        await store.record_chunk(sql, job_id, seq, outcome.counts(), outcome.errors)
    _log_chunk(job_id, seq, outcome)
    return True


def _log_chunk(job_id: uuid.UUID, seq: int, outcome: ChunkOutcome) -> None:
    log.info("job_chunk_done", job_id=str(job_id), seq=seq, **outcome.counts())


async def finish(sessions: Sessions, job_id: uuid.UUID) -> None:
    """Mark the job succeeded if every chunk is done, then drop its upload and scratch keys."""
    async with sessions() as session, session.begin():
        finished = await store.finish_if_complete(SessionRunner(session), job_id, utcnow())
    if finished:
        await clean_up(sessions, job_id)
        log.info("job_succeeded", job_id=str(job_id))


async def fail_job(sessions: Sessions, job_id: uuid.UUID, code: str, params: Mapping[str, Any]) -> None:
    """End the job ``failed`` with a reason code (never data from the file)."""
    encoded = msgspec.json.encode(dict(params)).decode() if params else None
    async with sessions() as session, session.begin():
        sql = SessionRunner(session)
        failed = await store.set_status(sql, job_id, JobStatus.FAILED, utcnow(), reason=code, reason_params=encoded)
    if failed:
        await clean_up(sessions, job_id)
        log.warning("job_failed", job_id=str(job_id), reason=code)


async def clean_up(sessions: Sessions, job_id: uuid.UUID) -> None:
    """A job that ended keeps its counts and rejected rows, not the file nor the keys it saw."""
    async with sessions() as session, session.begin():
        sql = SessionRunner(session)
        job = await store.job_row(sql, job_id)
        await store.forget_keys(sql, job_id)
    if job is not None:
        remove_upload(job["path"], job["format"])


async def unfinished_work(
    sessions: Sessions, stalled_for: dt.timedelta | None = None
) -> list[tuple[uuid.UUID, list[int] | None]]:
    """Per unfinished job, its chunks still to do, or ``None`` when it has still to be planned.

    With ``stalled_for``, only the jobs without progress for that long, each marked as resumed now.
    """
    now = utcnow()
    async with sessions() as session, session.begin():
        sql = SessionRunner(session)
        work: list[tuple[uuid.UUID, list[int] | None]] = []
        if stalled_for is None:
            jobs = await store.unfinished_jobs(sql)
        else:
            jobs = await store.stalled_jobs(sql, now - stalled_for)
        for job in jobs:
            pending = None if job["total"] is None else await store.pending_chunks(sql, job["id"])
            work.append((job["id"], pending))
            if stalled_for is not None:
                await store.touch_job(sql, job["id"], now)
    for job_id, pending in work:
        if pending == []:
            await finish(sessions, job_id)
    return [(job_id, pending) for job_id, pending in work if pending != []]


async def run_here(sessions: Sessions, job_id: uuid.UUID, settings: Settings) -> AsyncIterator[int]:
    """Run the whole job in this process, chunk after chunk, yielding the rows each one did.

    The same steps as the workers take, for the command line and for tests.
    """
    for seq in await plan_job(sessions, job_id, settings):
        async with sessions() as session:
            chunk = await store.chunk(SessionRunner(session), job_id, seq)
        await run_chunk(sessions, job_id, seq, settings.reminder_policy)
        yield 0 if chunk is None else int(chunk["rows"])
