"""The ``panda`` command: run, migrate and load PANDA, together or part by part."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import click

from domain.config import get_settings
from domain.logs import configure_logging
from panda.import_command import import_file
from panda.keys_command import keys


@click.group()
def main() -> None:
    """PANDA — Patient Appointment Network Data Application."""
    configure_logging(get_settings())


@main.command()
def migrate() -> None:
    """Apply the database migrations."""
    from domain.migrate import migrate as run_migrations

    run_migrations(get_settings())
    click.echo("database is up to date")


@main.command()
def api() -> None:
    """Serve the HTTP API (WEB_CONCURRENCY processes on HOST:PORT)."""
    import uvicorn

    from panda.server import PROTOCOL

    settings = get_settings()
    uvicorn.run(
        "api.app:app_factory",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        timeout_worker_healthcheck=settings.api_process_healthcheck_seconds,
        timeout_keep_alive=settings.keep_alive_seconds,
        # Slow and idle clients: a bounded number of connections, a deadline and size limits on
        # each request head (uvicorn has neither with httptools; panda/server.py adds them).
        http=PROTOCOL,
        limit_concurrency=settings.limit_concurrency,
        backlog=settings.backlog,
        access_log=False,
        log_level="warning",
        proxy_headers=True,
    )


@main.command()
@click.option("--concurrency", type=int, default=None, help="Worker processes (default: one per CPU).")
def worker(concurrency: int | None) -> None:
    """Run a Celery worker: reminders, sweeps and bulk jobs."""
    from worker.celery_app import run_worker

    run_worker(concurrency)


@main.command()
def scheduler() -> None:
    """Run Celery beat, the scheduler (run exactly one)."""
    from worker.celery_app import run_scheduler

    run_scheduler()


@main.command()
@click.option("--port", type=int, default=5555, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True, help="0.0.0.0 inside a container.")
def flower(port: int, address: str) -> None:
    """Run Flower, the Celery dashboard, behind basic auth (FLOWER_BASIC_AUTH=user:password)."""
    from worker.celery_app import run_flower

    notice = flower_notice(get_settings().broker_url)
    if notice:
        click.echo(notice, err=True)
    run_flower(port, address)


# Transports with broadcast (remote control) and event fanout, which Flower needs to see workers.
FLOWER_BROKERS = {"redis", "rediss", "sentinel", "amqp", "amqps", "pyamqp"}


def flower_notice(broker_url: str) -> str | None:
    """What an operator must know before trusting Flower on this broker, or ``None``."""
    scheme = broker_url.split("://", 1)[0].lower()
    if scheme.split("+", 1)[0] in FLOWER_BROKERS:
        return None
    return (
        f"panda flower: the broker is {scheme}://, which has no broadcast and no event fanout: Flower will "
        "show 0 workers and no task events even while workers run. Use Redis (BROKER_URL=redis://...) "
        "for a working dashboard; on the embedded broker, watch GET /ready and the workers' logs."
    )


@main.command("load-examples")
def load_examples() -> None:
    """Load the client's 100 example patients and 100 appointments, then a small example timetable
    (``example_schedules.json``), through the API's services."""
    from domain.db import make_engine
    from panda.examples import load_example_timetable
    from panda.examples import load_examples as load

    async def run() -> None:
        settings = get_settings()
        engine = make_engine(settings)
        from sqlalchemy.ext.asyncio import async_sessionmaker

        sessions = async_sessionmaker(engine, expire_on_commit=False)
        outcome = await load(sessions, settings.reminder_policy)
        # After the appointments: the example history predates the timetable.
        outcome["schedules"] = await load_example_timetable(sessions)
        await engine.dispose()
        for kind, counts in outcome.items():
            click.echo(f"{kind}: " + ", ".join(f"{code} {n}" for code, n in sorted(counts.items())))

    asyncio.run(run())


@main.command()
def up() -> None:
    """Migrate, then run the API, a worker and the scheduler together until Ctrl-C."""
    from domain.migrate import migrate as run_migrations

    run_migrations(get_settings())
    children = [
        subprocess.Popen([sys.executable, "-m", "panda.cli", part])  # noqa: S603
        for part in ("api", "worker", "scheduler")
    ]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    sys.exit(0 if stopping else 1)


main.add_command(import_file)
main.add_command(keys)

if __name__ == "__main__":
    main()
