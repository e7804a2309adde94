"""Handing a new job to the workers: one message on the broker, sent off the event loop."""

from __future__ import annotations

import asyncio
import uuid

from celery import Celery

from domain.config import Settings

PLAN_TASK = "panda.jobs.plan"  # worker.job_tasks.PLAN_TASK
# A broker that does not answer quickly fails the upload (503) instead of holding it.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


class JobQueue:
    """Publishes ``panda.jobs.plan`` for new jobs on the configured broker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._celery: Celery | None = None

    def _app(self) -> Celery:
        if self._celery is None:
            from worker.celery_app import make_celery

            self._celery = make_celery(self.settings)
        return self._celery

    def _send(self, job_id: uuid.UUID) -> None:
        self._app().send_task(PLAN_TASK, args=(str(job_id),), retry=True, retry_policy=RETRY_POLICY)

    async def submit(self, job_id: uuid.UUID) -> None:
        """Queue the job's planning task; raises if the broker cannot take it."""
        await asyncio.to_thread(self._send, job_id)
