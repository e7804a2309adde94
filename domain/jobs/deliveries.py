"""Bounding the redeliveries of a job step that kills its worker.

A task whose worker dies (out of memory, a crash in a parser) is given back by the broker and
delivered again, and would kill the next worker too, forever, while reminders wait behind it.
Each run of a plan or chunk is counted in the database when it starts and uncounted when it
ends, whatever its outcome; what stays counted are runs whose worker died. Once a step has
lost ``JOB_MAX_REDELIVERIES`` runs, its next delivery fails the job (``job.redelivered_too_often``)
instead of running it. The count lives in the database because the broker may be flushed.
"""

from __future__ import annotations

import contextlib
import uuid

import structlog

from domain.jobs import runner, store
from domain.sql import SessionRunner

log = structlog.get_logger("panda.jobs")
REASON = "job.redelivered_too_often"


async def begin_run(sessions: runner.Sessions, job_id: uuid.UUID, seq: int | None, max_lost: int) -> bool:
    """Count this run of the plan (``seq`` None) or chunk; False (and the job failed) if too many were lost."""
    async with sessions() as session, session.begin():
        count = await store.count_run_start(SessionRunner(session), job_id, seq)
    if count is None or count <= max_lost:
        return True
    log.warning("job_step_lost_too_often", job_id=str(job_id), seq=seq, lost_runs=count - 1)
    await runner.fail_job(sessions, job_id, REASON, {})
    return False


async def end_run(sessions: runner.Sessions, job_id: uuid.UUID, seq: int | None) -> None:
    """The run counted by :func:`begin_run` ended without its worker dying."""
    with contextlib.suppress(Exception):  # a database that is gone now: the count errs on the safe side
        async with sessions() as session, session.begin():
            await store.count_run_end(SessionRunner(session), job_id, seq)
