"""The job tables: one place for every statement about jobs, chunks, rejected rows and seen keys."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import msgspec
from sqlalchemy import Table, bindparam, delete, exists, func, insert, select, update

from domain.errors import FieldError
from domain.jobs.formats import ACTIVE_STATUSES, JobStatus
from domain.jobs.scan import Span
from domain.models import Job, JobChunk, JobError, JobKey
from domain.sql import Query, SqlRunner

JOB = cast("Table", Job.__table__)
CHUNK = cast("Table", JobChunk.__table__)
ERROR = cast("Table", JobError.__table__)
KEY = cast("Table", JobKey.__table__)
DONE = "done"
PENDING = "pending"
COUNTS = ("valid", "invalid", "duplicates", "imported")

JOB_BY_ID = Query(select(JOB).where(JOB.c.id == bindparam("job_id")))
CHUNK_SUMS = Query(
    select(
        func.coalesce(func.sum(CHUNK.c.rows), 0).label("processed"),
        *(func.coalesce(func.sum(CHUNK.c[name]), 0).label(name) for name in COUNTS),
    ).where(CHUNK.c.job_id == bindparam("job_id"), CHUNK.c.status == DONE)
)
JOB_STATUS = Query(select(JOB.c.status).where(JOB.c.id == bindparam("job_id")))
JOB_STATUS_SHARED = Query(select(JOB.c.status).where(JOB.c.id == bindparam("job_id")).with_for_update(read=True))
CHUNK_ROW = Query(select(CHUNK).where(CHUNK.c.job_id == bindparam("job_id"), CHUNK.c.seq == bindparam("seq")))
PENDING_SEQS = Query(
    select(CHUNK.c.seq).where(CHUNK.c.job_id == bindparam("job_id"), CHUNK.c.status == PENDING).order_by(CHUNK.c.seq)
)
CLAIM_CHUNK = Query(
    update(CHUNK)
    .where(CHUNK.c.job_id == bindparam("the_job"), CHUNK.c.seq == bindparam("the_seq"), CHUNK.c.status == PENDING)
    .values(status=DONE, done_at=bindparam("done_at"))
    .returning(CHUNK.c.seq)
)
INSERT_CHUNK = Query(
    insert(CHUNK).values({c.name: bindparam(c.name) for c in CHUNK.c if c.name not in ("done_at", "lost_runs")})
)
INSERT_ERROR = Query(insert(ERROR).values({c.name: bindparam(c.name) for c in ERROR.c}))
ERROR_PAGE = Query(
    select(ERROR.c.row_number, ERROR.c.field, ERROR.c.code, ERROR.c.params)
    .where(ERROR.c.job_id == bindparam("job_id"))
    .order_by(ERROR.c.row_number, ERROR.c.position)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
ERROR_COUNT = Query(select(func.count()).select_from(ERROR).where(ERROR.c.job_id == bindparam("job_id")))


async def create_job(sql: SqlRunner, values: Mapping[str, Any]) -> None:
    """Record a new job (``queued``)."""
    await sql.execute(insert(JOB).values(dict(values)))


async def job_with_counts(sql: SqlRunner, job_id: uuid.UUID) -> Mapping[str, Any] | None:
    """The job's row with its progress: the sums of its done chunks."""
    job = await sql.fetch_one(JOB_BY_ID, job_id=job_id)
    if job is None:
        return None
    sums = await sql.fetch_one(CHUNK_SUMS, job_id=job_id)
    assert sums is not None
    return {**job, **{name: int(value) for name, value in sums.items()}}


async def job_status(sql: SqlRunner, job_id: uuid.UUID, *, shared_lock: bool = False) -> str | None:
    """The job's status; with ``shared_lock`` a cancel waits until this transaction ends."""
    status = await sql.scalar(JOB_STATUS_SHARED if shared_lock else JOB_STATUS, job_id=job_id)
    return None if status is None else str(status)


async def job_row(sql: SqlRunner, job_id: uuid.UUID) -> Mapping[str, Any] | None:
    """The job's own row."""
    return await sql.fetch_one(JOB_BY_ID, job_id=job_id)


async def set_status(
    sql: SqlRunner,
    job_id: uuid.UUID,
    status: JobStatus,
    now: dt.datetime,
    *,
    from_statuses: Sequence[JobStatus] = ACTIVE_STATUSES,
    **values: Any,
) -> bool:
    """Move the job to ``status`` if it is in one of ``from_statuses``; True if it moved."""
    if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        values.setdefault("finished_at", now)
    stmt = (
        update(JOB)
        .where(JOB.c.id == job_id, JOB.c.status.in_([s.value for s in from_statuses]))
        .values(status=status.value, updated_at=now, **values)
        .returning(JOB.c.id)
    )
    return await sql.fetch_one(stmt) is not None


async def start(sql: SqlRunner, job_id: uuid.UUID, now: dt.datetime) -> None:
    """A worker has taken the job: ``running`` from now."""
    await sql.execute(
        update(JOB)
        .where(JOB.c.id == job_id, JOB.c.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value, started_at=now, updated_at=now)
    )


async def save_plan(sql: SqlRunner, job_id: uuid.UUID, spans: Sequence[Span], now: dt.datetime) -> bool:
    """Store the chunks and the total once; False if another delivery of the plan already did."""
    stored = await sql.fetch_one(
        update(JOB)
        .where(JOB.c.id == job_id, JOB.c.total.is_(None), JOB.c.status == JobStatus.RUNNING.value)
        .values(total=sum(span.rows for span in spans), updated_at=now)
        .returning(JOB.c.id)
    )
    if stored is None:
        return False
    rows = [
        {
            "job_id": job_id,
            "seq": seq,
            "start_byte": span.start_byte,
            "end_byte": span.end_byte,
            "first_row": span.first_row,
            "rows": span.rows,
            "status": PENDING,
            **dict.fromkeys(COUNTS, 0),
        }
        for seq, span in enumerate(spans)
    ]
    if rows:
        await sql.execute_many(INSERT_CHUNK, rows)
    return True


async def chunk(sql: SqlRunner, job_id: uuid.UUID, seq: int) -> Mapping[str, Any] | None:
    """One chunk's row."""
    return await sql.fetch_one(CHUNK_ROW, job_id=job_id, seq=seq)


async def pending_chunks(sql: SqlRunner, job_id: uuid.UUID) -> list[int]:
    """The chunks still to do."""
    return [int(row["seq"]) for row in await sql.fetch_all(PENDING_SEQS, job_id=job_id)]


async def claim_chunk(sql: SqlRunner, job_id: uuid.UUID, seq: int, now: dt.datetime) -> bool:
    """Mark the chunk done inside the caller's transaction; False if another delivery already did.

    The row stays locked until that transaction ends, so a concurrent delivery waits here and
    then finds the chunk done (or, if the first was killed, takes it over).
    """
    return await sql.fetch_one(CLAIM_CHUNK, the_job=job_id, the_seq=seq, done_at=now) is not None


async def record_chunk(
    sql: SqlRunner, job_id: uuid.UUID, seq: int, counts: Mapping[str, int], errors: Sequence[tuple[int, FieldError]]
) -> None:
    """Store a claimed chunk's counts and rejected rows (same transaction as the claim)."""
    await sql.execute(update(CHUNK).where(CHUNK.c.job_id == job_id, CHUNK.c.seq == seq).values(dict(counts)))
    rows: list[dict[str, Any]] = []
    position = 0
    last_row = None
    for row_number, error in sorted(errors, key=lambda item: item[0]):
        position = position + 1 if row_number == last_row else 0
        last_row = row_number
        params = msgspec.json.encode(error.params).decode() if error.params else None
        rows.append(
            {
                "job_id": job_id,
                "row_number": row_number,
                "position": position,
                "field": error.field[:255],
                "code": error.code,
                "params": params,
            }
        )
    if rows:
        await sql.execute_many(INSERT_ERROR, rows)


async def finish_if_complete(sql: SqlRunner, job_id: uuid.UUID, now: dt.datetime) -> bool:
    """``succeeded`` once every chunk is done; True for the one caller that made it so."""
    no_pending = ~exists().where(CHUNK.c.job_id == job_id, CHUNK.c.status == PENDING)
    stmt = (
        update(JOB)
        .where(JOB.c.id == job_id, JOB.c.status == JobStatus.RUNNING.value, JOB.c.total.is_not(None), no_pending)
        .values(status=JobStatus.SUCCEEDED.value, finished_at=now, updated_at=now)
        .returning(JOB.c.id)
    )
    return await sql.fetch_one(stmt) is not None


async def forget_keys(sql: SqlRunner, job_id: uuid.UUID) -> None:
    """Drop a finished validation's scratch keys."""
    await sql.execute(delete(KEY).where(KEY.c.job_id == job_id))


async def error_page(sql: SqlRunner, job_id: uuid.UUID, limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of the job's rejected rows, by row number, and how many there are."""
    rows = await sql.fetch_all(ERROR_PAGE, job_id=job_id, limit=limit, offset=offset)
    total = await sql.scalar(ERROR_COUNT, job_id=job_id)
    return list(rows), int(total or 0)


async def unfinished_jobs(sql: SqlRunner) -> list[Mapping[str, Any]]:
    """Jobs still queued or running (for resuming after workers were lost)."""
    stmt = select(JOB.c.id, JOB.c.status, JOB.c.total).where(JOB.c.status.in_([s.value for s in ACTIVE_STATUSES]))
    return list(await sql.fetch_all(stmt))


LAST_DONE = select(func.max(CHUNK.c.done_at)).where(CHUNK.c.job_id == JOB.c.id).scalar_subquery()


async def stalled_jobs(sql: SqlRunner, stale_before: dt.datetime) -> list[Mapping[str, Any]]:
    """The unfinished jobs (as :func:`unfinished_jobs`) with no sign of progress since ``stale_before``:
    no chunk done, no resume."""
    stmt = select(JOB.c.id, JOB.c.status, JOB.c.total, JOB.c.updated_at, LAST_DONE.label("last_done")).where(
        JOB.c.status.in_([s.value for s in ACTIVE_STATUSES])
    )
    return [
        row
        for row in await sql.fetch_all(stmt)
        if max(row["updated_at"], row["last_done"] or row["updated_at"]) < stale_before
    ]


async def touch_job(sql: SqlRunner, job_id: uuid.UUID, now: dt.datetime) -> None:
    """Record that the job was just resumed, so it is not resumed again until it stalls anew."""
    await sql.execute(update(JOB).where(JOB.c.id == job_id).values(updated_at=now))


async def live_job_ids(sql: SqlRunner) -> set[uuid.UUID]:
    """The ids of jobs still queued or running: their uploads must stay."""
    stmt = select(JOB.c.id).where(JOB.c.status.in_([s.value for s in ACTIVE_STATUSES]))
    return {row["id"] for row in await sql.fetch_all(stmt)}


async def count_run_start(sql: SqlRunner, job_id: uuid.UUID, seq: int | None) -> int | None:
    """One more run of the job's plan (``seq`` None) or chunk has started and not yet ended; the new count.

    None when there is nothing to run (the job is over, the chunk done or unknown).
    """
    if seq is None:
        stmt = (
            update(JOB)
            .where(JOB.c.id == job_id, JOB.c.status.in_([s.value for s in ACTIVE_STATUSES]))
            .values(plan_lost_runs=JOB.c.plan_lost_runs + 1)
            .returning(JOB.c.plan_lost_runs)
        )
    else:
        stmt = (
            update(CHUNK)
            .where(CHUNK.c.job_id == job_id, CHUNK.c.seq == seq, CHUNK.c.status == PENDING)
            .values(lost_runs=CHUNK.c.lost_runs + 1)
            .returning(CHUNK.c.lost_runs)
        )
    count = await sql.scalar(stmt)
    return None if count is None else int(count)


async def count_run_end(sql: SqlRunner, job_id: uuid.UUID, seq: int | None) -> None:
    """A run counted by :func:`count_run_start` came to an end (whatever its outcome): it was not lost."""
    if seq is None:
        stmt = update(JOB).where(JOB.c.id == job_id, JOB.c.plan_lost_runs > 0)
        await sql.execute(stmt.values(plan_lost_runs=JOB.c.plan_lost_runs - 1))
    else:
        stmt = update(CHUNK).where(CHUNK.c.job_id == job_id, CHUNK.c.seq == seq, CHUNK.c.lost_runs > 0)
        await sql.execute(stmt.values(lost_runs=CHUNK.c.lost_runs - 1))
