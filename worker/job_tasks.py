"""Celery tasks of bulk jobs: plan a job into chunks, run each chunk, resume after lost workers.

Tasks are thin and idempotent: the state is in the database (see ``domain.jobs.runner``), so a
task delivered twice does nothing the second time. When a worker starts it publishes a resume,
which re-sends the work of every unfinished job: after a ``kill -9`` the jobs then finish
without waiting for the broker to give back the lost worker's messages. The scheduler also
resumes jobs that stalled while other workers ran on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import structlog
from celery import Task
from celery.signals import worker_ready

from domain.config import get_settings
from domain.jobs import runner
from worker.celery_app import celery_app, run_in_process

PLAN_TASK = "panda.jobs.plan"
CHUNK_TASK = "panda.jobs.chunk"
RESUME_TASK = "panda.jobs.resume"
RESUME_STALLED_TASK = "panda.jobs.resume_stalled"
MAX_RETRIES = 5

log = structlog.get_logger("panda.jobs")


class JobStepFailed(Exception):
    """Stands for an exception whose text may quote the file's data: only its type is kept."""


class JobNotVisibleYet(Exception):
    """The API's transaction recording the job has not committed yet."""


def _retry(task: Task, exc: Exception, job_id: str) -> None:
    """Retry with back-off; after the last try the job fails rather than hanging ``running``."""
    log.warning("job_step_error", task=task.name, job_id=job_id, error=type(exc).__name__)
    if task.request.retries >= MAX_RETRIES:
        run_in_process(lambda sessions: runner.fail_job(sessions, uuid.UUID(job_id), "job.internal_error", {}))
        return
    raise task.retry(exc=JobStepFailed(type(exc).__name__), countdown=2**task.request.retries, max_retries=None)


@celery_app.task(name=PLAN_TASK, bind=True)
def plan_job(self: Task, job_id: str) -> int:
    """Scan the upload, store its chunks and send one task per chunk."""
    settings = get_settings()
    try:
        job = uuid.UUID(job_id)
        if not run_in_process(lambda sessions: runner.job_exists(sessions, job)):
            raise JobNotVisibleYet
        pending = run_in_process(lambda sessions: runner.plan_job(sessions, job, settings))
    except Exception as exc:  # noqa: BLE001 - any failure is retried, then ends the job
        _retry(self, exc, job_id)
        return 0
    for seq in pending:
        run_chunk.apply_async((job_id, seq))
    return len(pending)


@celery_app.task(name=CHUNK_TASK, bind=True)
def run_chunk(self: Task, job_id: str, seq: int) -> str:
    """Validate (and import) one chunk, once."""
    try:
        reminders = get_settings().reminder_policy
        return run_in_process(lambda sessions: runner.run_chunk(sessions, uuid.UUID(job_id), seq, reminders))
    except Exception as exc:  # noqa: BLE001 - any failure is retried, then ends the job
        _retry(self, exc, job_id)
        return "failed"


@celery_app.task(name=RESUME_TASK)
def resume_jobs() -> int:
    """Send again the work of every unfinished job; deliveries of work already done are no-ops."""
    return _send_again(run_in_process(runner.unfinished_work))


@celery_app.task(name=RESUME_STALLED_TASK)
def resume_stalled_jobs() -> int:
    """Send again the work of jobs without progress for ``JOB_STALL_SECONDS`` (scheduled by beat).

    A worker killed while others run on gives its unacknowledged chunks back only after the
    broker's visibility timeout (hours); this notices the stall long before.
    """
    stalled_for = dt.timedelta(seconds=get_settings().job_stall_seconds)
    return _send_again(run_in_process(lambda sessions: runner.unfinished_work(sessions, stalled_for)))


def _send_again(work: list[tuple[uuid.UUID, list[int] | None]]) -> int:
    for job_id, pending in work:
        if pending is None:
            plan_job.apply_async((str(job_id),))
        else:
            for seq in pending:
                run_chunk.apply_async((str(job_id), seq))
    return len(work)


@worker_ready.connect
def _resume_on_start(**_kwargs: Any) -> None:
    resume_jobs.apply_async()
