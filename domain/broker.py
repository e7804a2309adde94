"""The Celery broker adapter both the API (a client that only sends) and the workers build on.

Queues, routes, serialisation and transport options are defined once here, so a task the API
sends lands on the queue the workers consume; the worker adds its own execution settings.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue  # type: ignore[attr-defined]

from domain.config import Settings
from domain.jobs.tasks import JOB_TASKS, JOBS_QUEUE

DEFAULT_QUEUE = "panda"
# Longer than any task may run (the worker's time limit), so Redis never re-delivers a running task.
VISIBILITY_TIMEOUT = 2 * 60 * 60


def transport_options(broker_url: str) -> dict[str, Any]:
    """Redis re-delivers a task unacknowledged for ``visibility_timeout``: longer than any task.

    The embedded SQLAlchemy transport passes its options to ``create_engine``, which refuses it.
    """
    if broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        return {"visibility_timeout": VISIBILITY_TIMEOUT}
    return {}


def broker_conf(settings: Settings) -> dict[str, Any]:
    """What senders and workers must agree on: queues, routes, JSON only, transport options."""
    return {
        "broker_url": settings.broker_url,
        "task_default_queue": DEFAULT_QUEUE,
        # Bulk-job chunks get a queue of their own so a big import cannot sit in front of the
        # reminder dispatch and the missed sweep; a worker consumes both queues unless told otherwise.
        "task_queues": (Queue(DEFAULT_QUEUE), Queue(JOBS_QUEUE)),  # type: ignore[no-untyped-call]
        "task_routes": {JOB_TASKS: {"queue": JOBS_QUEUE}},
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        "result_backend": settings.result_backend,
        "broker_transport_options": transport_options(settings.broker_url),
        "broker_connection_retry_on_startup": True,
        "task_send_sent_event": True,
        "timezone": "UTC",
        "enable_utc": True,
    }


def make_client(settings: Settings) -> Celery:
    """A Celery app that only sends tasks by name (no task modules imported)."""
    app = Celery("panda", broker=settings.broker_url)
    app.conf.update(broker_conf(settings))
    return app
