"""The Celery application: configured for reliability, one event loop and engine per process.

Tasks are thin: each runs one domain use case on the process's own event loop, so the worker
reaches the same async services as the API. The loop and the engine are made after the fork
(``worker_process_init``), never shared across processes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.broker import broker_conf
from domain.config import Settings, get_settings
from domain.db import make_engine
from domain.jobs.tasks import RESUME_STALLED_TASK
from domain.logs import configure_logging

T = TypeVar("T")

TASK_TIME_LIMIT = 30 * 60


def make_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings``: late acks, re-queue on a lost worker, prefetch 1, JSON only."""
    app = Celery("panda", broker=settings.broker_url, include=["worker.tasks", "worker.job_tasks"])
    Path("var").mkdir(exist_ok=True)
    app.conf.update(
        broker_conf(settings),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT,
        task_soft_time_limit=TASK_TIME_LIMIT - 60,
        # A task that bloated its process (a huge upload row) does not leave it bloated for the next.
        worker_max_memory_per_child=settings.worker_max_memory_per_child,
        worker_send_task_events=True,
        worker_soft_shutdown_timeout=10.0,
        worker_enable_soft_shutdown_on_idle=True,
        worker_hijack_root_logger=False,
        # structlog already writes structured lines to stderr; Celery would re-log them as WARNING.
        worker_redirect_stdouts=False,
        beat_schedule_filename=str(Path("var") / "celerybeat-schedule"),
        beat_schedule=beat_schedule(settings),
    )
    return app


def stale_after(settings: Settings) -> float:
    """Seconds after which a periodic task still queued is dropped: a newer one is on its way.

    Generous, so a busy queue delays the sweep and the dispatch rather than starving them.
    """
    return max(5 * settings.scheduler_interval, 60.0)


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery beat's small periodic tasks: reminders and the sweep every ``SCHEDULER_INTERVAL`` seconds,
    the stalled-job check a few times per ``JOB_STALL_SECONDS``."""
    options = {"expires": stale_after(settings)}
    return {
        "dispatch-due-reminders": {
            "task": "panda.reminders.dispatch",
            "schedule": settings.scheduler_interval,
            "options": options,
        },
        "store-missed-statuses": {
            "task": "panda.appointments.sweep_missed",
            "schedule": settings.scheduler_interval,
            "options": options,
        },
        "resume-stalled-jobs": {
            "task": RESUME_STALLED_TASK,
            "schedule": max(settings.scheduler_interval, settings.job_stall_seconds / 5),
            "options": options,
        },
    }


celery_app = make_celery(get_settings())


class _ProcessResources:
    """The event loop, engine and session factory of this worker process."""

    loop: asyncio.AbstractEventLoop | None = None
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None


_process = _ProcessResources()


@worker_process_init.connect
def _open_process_resources(**_kwargs: Any) -> None:
    configure_logging(get_settings())
    _process.loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_process.loop)
    _process.engine = make_engine(get_settings())
    _process.sessions = async_sessionmaker(_process.engine, expire_on_commit=False)


@worker_process_shutdown.connect
def _close_process_resources(**_kwargs: Any) -> None:
    if _process.loop is not None and _process.engine is not None:
        _process.loop.run_until_complete(_process.engine.dispose())


def run_in_process(use_case: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run an async use case on this process's loop with its session factory.

    Outside a prefork child (eager tests, solo pool) the resources are made on first use.
    """
    if _process.loop is None:
        _open_process_resources()
    assert _process.loop is not None
    assert _process.sessions is not None
    return _process.loop.run_until_complete(use_case(_process.sessions))


def run_worker(concurrency: int | None = None) -> None:
    """``panda worker``: a prefork worker with task events on (for Flower)."""
    argv = ["worker", "--loglevel=INFO", "--pool=prefork", "-E"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    celery_app.worker_main(argv)


def run_scheduler() -> None:
    """``panda scheduler``: Celery beat. Run exactly one per deployment (two only double the checks)."""
    celery_app.start(["beat", "--loglevel=INFO"])


def run_flower(port: int, address: str) -> None:
    """``panda flower``: the dashboard of queues, workers and tasks, never without basic auth."""
    auth = get_settings().flower_basic_auth
    if not auth or ":" not in auth:
        raise SystemExit("FLOWER_BASIC_AUTH must be set to user:password; Flower is never served open.")
    # Flower reads its FLOWER_* variables itself; passing the password in argv would show it in `ps`.
    os.environ["FLOWER_BASIC_AUTH"] = auth
    celery_app.start(["flower", f"--port={port}", f"--address={address}"])
