"""Reminder throughput: due reminders through the ``outbox`` and ``notify`` channels beside a no-op task.

    uv run python -m bench.reminders [--reminders 10000] [--concurrency 2] [--rounds 2] [--notify 1000]

One Celery worker (prefork, ``--concurrency``) on Redis (``BENCH_REDIS_URL``, default database 14
of the local server, flushed) and a scratch PostgreSQL database (``BENCH_POSTGRES_DSN``). First
``--reminders`` no-op tasks drain from a full queue; then, ``--rounds`` times, as many due
reminders are stored and one dispatch is sent. Prints tasks or reminders per second and the
worker's memory (resident now, and the largest peak of one process) after each run. Last,
``--notify`` due reminders go through the ``notify`` channel (GOV.UK Notify's client, one send
per claim, leased, outside any transaction) to the Notify test double on loopback, which checks
each request's JWT and body as Notify does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis

from bench.harness import ROOT, scratch_database, valid_nhs_numbers
from tests.reminders.notify_double import API_KEY, EMAIL_TEMPLATE, SMS_TEMPLATE, NotifyDouble, notify_double

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUEUE = "panda"


@dataclass
class Row:
    """One line of the report."""

    run: str
    items: int
    seconds: float
    rss_mb: float
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def notify_env(double: NotifyDouble) -> dict[str, str]:
    """The worker's settings for the notify channel, pointed at the double."""
    return {
        "NOTIFY_API_KEY": API_KEY,
        "NOTIFY_BASE_URL": double.url,
        "NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
        "NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
    }


def worker_memory(pid: int) -> tuple[float, float]:
    """Resident MB of the worker and its pool processes, and the largest peak (VmHWM) of one."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    rss = peak = 0.0
    for each in pids:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{each}/status").read_text().splitlines())
        rss += int(fields["VmRSS"].split()[0]) / 1024
        peak = max(peak, int(fields["VmHWM"].split()[0]) / 1024)
    return rss, peak


def wait_ready(app: object, deadline: float) -> None:
    """Until the worker answers a ping."""
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):  # type: ignore[attr-defined]
            return
    raise RuntimeError("worker did not start")


def drain_noop(app: object, broker: redis.Redis, count: int, worker: subprocess.Popen[bytes]) -> float:
    """Seconds for a running worker to drain ``count`` queued no-op tasks."""
    app.control.cancel_consumer(QUEUE)  # type: ignore[attr-defined]
    time.sleep(0.5)
    with app.producer_or_acquire() as producer:  # type: ignore[attr-defined]
        for _ in range(count):
            app.send_task("bench.noop", producer=producer)  # type: ignore[attr-defined]
    assert broker.llen(QUEUE) == count
    app.control.add_consumer(QUEUE)  # type: ignore[attr-defined]
    while broker.llen(QUEUE) == count:
        time.sleep(0.001)
    started, remaining = time.perf_counter(), broker.llen(QUEUE)
    while broker.llen(QUEUE) > 0 or broker.hlen("unacked") > 0:
        time.sleep(0.002)
    return (time.perf_counter() - started) * count / max(remaining, 1)


async def seed(dsn: str, count: int, first: int, channel: str = "outbox") -> None:
    """``count`` patients with an e-mail, each with a future appointment and a reminder due now."""
    now = dt.datetime.now(dt.UTC)
    connection = await asyncpg.connect(dsn)
    try:
        clinician = await connection.fetchval(
            "INSERT INTO clinician (name, name_key) VALUES ($1, $2) RETURNING id", f"Dr {first}", f"dr {first}"
        )
        department = await connection.fetchval(
            "INSERT INTO department (name, name_key) VALUES ($1, $2) "
            "ON CONFLICT (name_key) DO UPDATE SET name = excluded.name RETURNING id",
            "Cardiology", "cardiology",
        )  # fmt: skip
        numbers = valid_nhs_numbers(700_000_000 + first * 2, count)
        born = dt.date(1970, 1, 1)
        patients = [(n, "Bench", "bench", born, "N1 9GU", f"p{n}@example.org", now, now) for n in numbers]
        await connection.copy_records_to_table(
            "patient",
            records=patients,
            columns=["nhs_number", "name", "name_search", "date_of_birth", "postcode", "email", "created_at",
                     "updated_at"],
        )  # fmt: skip
        ids = await connection.fetch("SELECT id FROM patient WHERE nhs_number = any($1::text[])", numbers)
        appointments, reminders = [], []
        for index, row in enumerate(ids):
            start = now + dt.timedelta(days=2, minutes=15 * (first + index))
            appointment = uuid.uuid4()
            appointments.append(
                (appointment, row["id"], clinician, department, "active", start, start + dt.timedelta(minutes=15), 15,
                 "SW1A 1AA", now, now)
            )  # fmt: skip
            reminders.append((uuid.uuid4(), appointment, now, channel, "scheduled", 0, now, now))
        await connection.copy_records_to_table(
            "appointment",
            records=appointments,
            columns=["id", "patient_id", "clinician_id", "department_id", "status", "starts_at", "ends_at",
                     "duration_minutes", "postcode", "created_at", "updated_at"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "reminder",
            records=reminders,
            columns=["id", "appointment_id", "due_at", "channel", "status", "attempts", "created_at", "updated_at"],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def sent_count(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM reminder WHERE status = 'sent'"))
    finally:
        await connection.close()


def send_reminders(app: object, dsn: str, count: int, already_sent: int, every: float | None = None) -> float:
    """Seconds from one dispatch until ``count`` more reminders are sent.

    ``every``: dispatch again this often, as the scheduler would, for a run longer than one drain's budget.
    """
    started = last = time.perf_counter()
    app.send_task("panda.reminders.dispatch")  # type: ignore[attr-defined]
    while asyncio.run(sent_count(dsn)) < already_sent + count:
        time.sleep(0.02)
        if every is not None and time.perf_counter() - last >= every:
            app.send_task("panda.reminders.dispatch")  # type: ignore[attr-defined]
            last = time.perf_counter()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--notify", type=int, default=1000, help="reminders through the notify channel (0: none)")
    args = parser.parse_args()
    with ExitStack() as stack:
        double = stack.enter_context(notify_double()) if args.notify else None
        run(args, double)


def run(args: argparse.Namespace, double: NotifyDouble | None) -> None:
    """The runs, one worker throughout; ``double`` receives the notify channel's sends."""
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    with scratch_database("panda_bench_reminders") as dsn:
        env = {
            **os.environ,
            "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            "BROKER_URL": REDIS_URL,
            "LOG_LEVEL": "WARNING",
            **(notify_env(double) if double else {}),
        }
        os.environ.update(BROKER_URL=REDIS_URL)
        from domain.config import Settings
        from worker.celery_app import make_celery

        app = make_celery(Settings(broker_url=REDIS_URL))
        argv = [
            sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "--pool=prefork",
            f"--concurrency={args.concurrency}", "--loglevel=WARNING", "-I", "bench.noop_task",
            "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        worker = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows: list[Row] = []
        try:
            wait_ready(app, time.monotonic() + 30)
            seconds = drain_noop(app, broker, args.reminders, worker)
            rows.append(Row("no-op task", args.reminders, seconds, *worker_memory(worker.pid)))
            for round_number in range(args.rounds):
                asyncio.run(seed(dsn, args.reminders, round_number * args.reminders))
                seconds = send_reminders(app, dsn, args.reminders, round_number * args.reminders)
                rows.append(Row(f"reminders, round {round_number + 1}", args.reminders, seconds,
                                *worker_memory(worker.pid)))  # fmt: skip
            if double:
                first = args.rounds * args.reminders
                asyncio.run(seed(dsn, args.notify, first, channel="notify"))
                seconds = send_reminders(app, dsn, args.notify, first, every=1.0)
                assert len(double.accepted) == args.notify and not double.refused, "every send accepted once"
                rows.append(Row("notify channel", args.notify, seconds, *worker_memory(worker.pid)))
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            broker.flushdb()
    print(f"\nOne worker, prefork concurrency {args.concurrency}, Redis broker, PostgreSQL, outbox then notify\n")
    header = ("run", "items", "seconds", "per second", "× no-op", "worker RSS MB", "peak MB")
    print("{:<22} {:>7} {:>8} {:>11} {:>8} {:>14} {:>8}".format(*header))
    baseline = rows[0].rate
    for row in rows:
        print(
            f"{row.run:<22} {row.items:>7} {row.seconds:>8.2f} {row.rate:>11.0f} {row.rate / baseline:>8.2f} "
            f"{row.rss_mb:>14.1f} {row.peak_mb:>8.1f}"
        )


if __name__ == "__main__":
    main()
