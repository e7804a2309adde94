"""A task that does nothing: the yardstick of Celery's own cost per task (``bench.reminders``)."""

from __future__ import annotations

from worker.celery_app import celery_app


@celery_app.task(name="bench.noop")
def noop() -> None:
    """Nothing at all."""
