"""The Celery application: configured for reliability, one event loop and engine per process.

Tasks are thin: each runs one domain use case on the process's own event loop, so the worker
reaches the same async services as the API. The loop and the engine are made after the fork
(``worker_process_init``), never shared across processes.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog
from celery import Celery
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded
from celery.signals import setup_logging, worker_process_init, worker_process_shutdown
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.broker import broker_conf
from domain.config import Settings, get_settings
from domain.db import make_engine
from domain.jobs.tasks import RESUME_STALLED_TASK
from domain.logs import configure_logging, describe_exception

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
        # Several schedulers may run; the one holding the lease in the database sends (SPEC §12).
        beat_scheduler="worker.leased_beat:LeasedScheduler",
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

# Celery's own control flow, and a time limit: these carry no data and Celery must see them as they are.
_CELERY_SIGNALS = (Retry, Ignore, Reject, SoftTimeLimitExceeded)


class TaskFailed(Exception):
    """Stands for whatever a task raised: its type, its causes' types and where, never its text.

    A driver's error text can quote the row it refused (``DETAIL: Key (email)=(…)``), and what a
    task raises travels into the worker's log, the ``task-failed`` and ``task-retried`` events and
    the failure report Flower shows. Raised outside the ``except`` block, it chains nothing.
    """

    def __init__(self, summary: str, description: dict[str, Any] | None = None) -> None:
        super().__init__(summary)
        self.description = description or {"error": summary}


def without_error_text(run: Callable[..., T]) -> Callable[..., T]:
    """Let ``run`` raise nothing but :class:`TaskFailed` (and Celery's own signals)."""

    @functools.wraps(run)
    def guarded(*args: Any, **kwargs: Any) -> T:
        try:
            return run(*args, **kwargs)
        except _CELERY_SIGNALS:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is reported, by type only
            description = describe_exception(exc)
        causes = "".join(f" from {name}" for name in description["causes"])
        raise TaskFailed(f"{description['error']}{causes} at {description['location']}", description)

    return guarded


def panda_task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``celery_app.task`` for PANDA's tasks: whatever they raise reaches Celery without its text.

    The guard sits inside Celery's ``autoretry_for`` wrapper, so retries see the guarded error too.
    """

    def register(run: Callable[..., Any]) -> Any:
        return celery_app.task(**options)(without_error_text(run))

    return register


@setup_logging.connect
def _configure_worker_logging(**_kwargs: Any) -> None:
    """Celery leaves logging alone when this signal has a receiver: its records and ours share one
    text-free JSON rendering (``domain.logs``), in the worker, its pool processes and beat."""
    settings = get_settings()
    configure_logging(settings)
    if settings.reminder_channel == "notify" and settings.missing_notify_settings:
        # Names of settings only, never their values.
        structlog.get_logger("panda.reminders").warning(
            "notify.not_configured", missing=settings.missing_notify_settings
        )


class _ProcessResources:
    """The event loop, engine and session factory of this worker process."""

    loop: asyncio.AbstractEventLoop | None = None
    engine: AsyncEngine | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None


_process = _ProcessResources()


@worker_process_init.connect
def _start_process(**_kwargs: Any) -> None:
    _open_process_resources()
    # Out of the collector's view: a job chunk allocates tens of thousands of objects, and each
    # full collection would otherwise walk the whole imported heap (measured: validation at
    # 101k rows/s with it in view, 123k rows/s frozen, 126k with no collector at all). Only here,
    # at a prefork child's start: frozen objects are never collected, so not mid-task.
    gc.collect()
    gc.freeze()


def _open_process_resources() -> None:
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
    """``panda scheduler``: Celery beat. Run as many as you like: one holds the lease and sends, the
    others stand by and take over within two ``SCHEDULER_INTERVAL``s of its death."""
    celery_app.start(["beat", "--loglevel=INFO"])


def run_flower(port: int, address: str) -> None:
    """``panda flower``: the dashboard of queues, workers and tasks, never without basic auth."""
    auth = get_settings().flower_basic_auth
    if not auth or ":" not in auth:
        raise SystemExit("FLOWER_BASIC_AUTH must be set to user:password; Flower is never served open.")
    # Flower reads its FLOWER_* variables itself; passing the password in argv would show it in `ps`.
    os.environ["FLOWER_BASIC_AUTH"] = auth
    celery_app.start(["flower", f"--port={port}", f"--address={address}"])
