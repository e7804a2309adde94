"""Handing a new job to the workers: one message on the broker, sent off the event loop.

The API is a sender only: it builds a Celery client from the shared broker settings
(``domain.broker``) and sends the task by its name, without importing the worker's code.
"""

from __future__ import annotations

import asyncio
import uuid

from celery import Celery

from domain.broker import make_client
from domain.config import Settings
from domain.jobs.tasks import PLAN_TASK

# A broker that does not answer quickly fails the upload (503) instead of holding it.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


class JobQueue:
    """Publishes the plan task of new jobs on the configured broker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._celery: Celery | None = None

    def _app(self) -> Celery:
        if self._celery is None:
            self._celery = make_client(self.settings)
        return self._celery

    def _send(self, job_id: uuid.UUID) -> None:
        self._app().send_task(PLAN_TASK, args=(str(job_id),), retry=True, retry_policy=RETRY_POLICY)

    async def submit(self, job_id: uuid.UUID) -> None:
        """Queue the job's planning task (after its row is committed); raises if the broker cannot take it."""
        await asyncio.to_thread(self._send, job_id)
