"""Celery tasks of bulk jobs: plan a job into chunks, run each chunk, resume after lost workers.

Tasks are thin and idempotent: the state is in the database (see ``domain.jobs.runner``), so a
task delivered twice does nothing the second time. When a worker starts it publishes a resume,
which re-sends the work of every unfinished job: after a ``kill -9`` the jobs then finish
without waiting for the broker to give back the lost worker's messages. The scheduler also
resumes jobs that stalled while other workers ran on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import structlog
from celery import Task
from celery.signals import worker_ready

from domain.config import get_settings
from domain.jobs import deliveries, runner, store
from domain.jobs.files import sweep_orphans
from domain.jobs.tasks import CHUNK_TASK, PLAN_TASK, RESUME_STALLED_TASK, RESUME_TASK
from domain.logs import describe_exception
from domain.sql import SessionRunner
from worker.celery_app import TaskFailed, panda_task, run_in_process

MAX_RETRIES = 5

log = structlog.get_logger("panda.jobs")


class JobStepTask(Task):  # type: ignore[misc]
    """A step of a job: retried with back-off (1, 2, 4, 8, 16 s); after the last try the job fails
    rather than hanging ``running``. What is retried is already a :class:`TaskFailed`: no text."""

    autoretry_for = (TaskFailed,)
    retry_backoff = True
    retry_jitter = False
    max_retries = MAX_RETRIES

    def on_retry(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """One line per failed try, with the job and the error's type."""
        log.warning("job_step_error", task=self.name, job_id=args[0], **_description(exc))

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """The last try failed too: the job ends ``failed`` with ``job.internal_error``."""
        log.warning("job_step_error", task=self.name, job_id=args[0], **_description(exc))
        job_id = uuid.UUID(args[0])
        try:
            run_in_process(lambda sessions: runner.fail_job(sessions, job_id, "job.internal_error", {}))
        except Exception as error:  # noqa: BLE001 - logged by type; the stalled-job check tries again
            failure = describe_exception(error)
        else:
            return
        log.error("job_fail_error", job_id=args[0], **failure)


def _description(exc: BaseException) -> dict[str, Any]:
    return exc.description if isinstance(exc, TaskFailed) else {"error": type(exc).__name__}


@panda_task(name=PLAN_TASK, bind=True, base=JobStepTask)
def plan_job(self: Task, job_id: str) -> int:
    """Scan the upload, store its chunks and send one task per chunk."""
    settings = get_settings()
    job = uuid.UUID(job_id)
    # The API sends this task only once the job's row is committed: a job not found is gone.
    with _counted_run(job, None) as allowed:
        pending = run_in_process(lambda sessions: runner.plan_job(sessions, job, settings)) if allowed else []
    for seq in pending:
        run_chunk.apply_async((job_id, seq))
    return len(pending)


@panda_task(name=CHUNK_TASK, bind=True, base=JobStepTask)
def run_chunk(self: Task, job_id: str, seq: int) -> str:
    """Validate (and import) one chunk, once."""
    job = uuid.UUID(job_id)
    reminders = get_settings().reminder_policy
    with _counted_run(job, seq) as allowed:
        if not allowed:
            return "failed"
        return run_in_process(lambda sessions: runner.run_chunk(sessions, job, seq, reminders))


@contextlib.contextmanager
def _counted_run(job_id: uuid.UUID, seq: int | None) -> Iterator[bool]:
    """Count this run of a step in the database (see ``domain.jobs.deliveries``); yields whether to run it."""
    limit = get_settings().job_max_redeliveries
    allowed = run_in_process(lambda sessions: deliveries.begin_run(sessions, job_id, seq, limit))
    try:
        yield allowed
    finally:
        if allowed:
            run_in_process(lambda sessions: deliveries.end_run(sessions, job_id, seq))


@panda_task(name=RESUME_TASK)
def resume_jobs() -> int:
    """At worker start: remove uploads a crash orphaned, then send again the work of every unfinished
    job (deliveries of work already done are no-ops)."""
    try:
        run_in_process(_sweep_uploads)
    except Exception as exc:  # noqa: BLE001 - a failed sweep must not hold back the jobs' work
        log.warning("orphan_upload_sweep_failed", error=type(exc).__name__)
    return _send_again(run_in_process(runner.unfinished_work))


async def _sweep_uploads(sessions: runner.Sessions) -> None:
    async def live_jobs() -> set[uuid.UUID]:
        async with sessions() as session:
            return await store.live_job_ids(SessionRunner(session))

    removed = await sweep_orphans(get_settings(), live_jobs)
    if removed:
        log.info("orphan_uploads_removed", files=removed)


@panda_task(name=RESUME_STALLED_TASK)
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
