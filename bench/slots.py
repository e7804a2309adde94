"""Slot-search benchmark: ``GET /slots`` for one department of 50 scheduled clinicians over 7 days.

    uv run python -m bench.slots [--appointments 1000000] [--samples 200]

Builds a scratch PostgreSQL database (``BENCH_POSTGRES_DSN``, default the local server) with the
analytics benchmark's 1,000,000 appointments of 50 clinicians over 5 years (each clinician's days
booked back to back from 08:00 London), gives all 50 clinicians a session in one department
(every day 08:00–18:00 London, 15-minute slots), runs the API (one process) and prints p50/p99 of
``/slots`` over the next 7 days beside a plain indexed single-row read (``GET /appointments/{id}``)
measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.analytics import CLINICIANS, appointment_count, seed
from bench.harness import database_dsn, free_port, scratch_database, server

LONDON = ZoneInfo("Europe/London")
TARGETS = {"p50": 50.0, "p99": 150.0}
DEPARTMENT = "Department 1"


async def add_schedules(dsn: str, now: dt.datetime, clinicians: list[int]) -> str:
    """``clinicians`` work in department 1, 08:00–18:00 London every day; returns one appointment id.

    Any schedules already there are replaced, so a kept data set can be measured again.
    """
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DELETE FROM schedule")
        rows = [
            (uuid.uuid4(), clinician, 1, "N6 2FA", 127, 8 * 60, 18 * 60, 15, dt.date(2020, 1, 1), now, now)
            for clinician in clinicians
        ]
        await connection.executemany(
            "INSERT INTO schedule (id, clinician_id, department_id, postcode, weekdays, start_minute, end_minute,"
            " slot_minutes, valid_from, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            rows,
        )
        await connection.execute("ANALYZE schedule")
        return str(await connection.fetchval("SELECT id FROM appointment WHERE starts_at > $1 LIMIT 1", now))
    finally:
        await connection.close()


async def department_clinicians(dsn: str, limit: int = CLINICIANS) -> tuple[str, list[int]]:
    """Department 1's name and up to ``limit`` of the clinicians who book there, in a kept data set."""
    connection = await asyncpg.connect(dsn)
    try:
        name = await connection.fetchval("SELECT name FROM department WHERE id = 1")
        rows = await connection.fetch(
            "SELECT DISTINCT clinician_id FROM appointment WHERE department_id = 1 AND starts_at > now() "
            "ORDER BY clinician_id LIMIT $1",
            limit,
        )
        return str(name), [row[0] for row in rows]
    finally:
        await connection.close()


def latencies(base: str, path: str, params: dict[str, str], samples: int) -> tuple[float, float, int]:
    """p50 and p99 in milliseconds over ``samples`` sequential requests (after five warm-ups)."""
    timings = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for attempt in range(samples + 5):
            began = time.perf_counter()
            response = client.get(path, params=params)
            elapsed = (time.perf_counter() - began) * 1000
            response.raise_for_status()
            if attempt >= 5:
                timings.append(elapsed)
        total = int(response.json().get("total", 1))
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    return quantiles[49], quantiles[98], total


def main() -> int:
    """Seed, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--database", help="an existing data set (e.g. panda_bench_history from bench.data) instead of seeding"
    )
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    tomorrow = now.astimezone(LONDON).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(0), tzinfo=LONDON)
    end = dt.datetime.combine(tomorrow + dt.timedelta(days=7), dt.time(0), tzinfo=LONDON)
    data = nullcontext(database_dsn(args.database)) if args.database else scratch_database("panda_bench_slots")
    with data as dsn, tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        if args.database:
            department, clinicians = asyncio.run(department_clinicians(dsn))
            args.appointments = asyncio.run(appointment_count(dsn))
        else:
            asyncio.run(seed(dsn, args.appointments, now))
            department, clinicians = DEPARTMENT, list(range(1, CLINICIANS + 1))
        appointment = asyncio.run(add_schedules(dsn, now, clinicians))
        window = {"department": department, "from": start.isoformat(), "to": end.isoformat(), "limit": "50"}
        print(f"{args.appointments:,} appointments ready in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        port = free_port()
        env = {"DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1), "LOG_LEVEL": "WARNING"}
        argv = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_factory", "--port", str(port)]
        with server(argv, env, port, Path(scratch) / "api.log") as base:
            rows = []
            for _round in range(2):  # alternate, so a busy moment of the machine hits both
                slots = latencies(base, "/slots", window, args.samples)
                rows.append((f"GET /slots ({len(clinicians)} clinicians, 7 days)", *slots))
                read = latencies(base, f"/appointments/{appointment}", {}, args.samples)
                rows.append(("GET /appointments/{id} (single-row read)", *read))
    print(f"{args.appointments:,} appointments stored; one API process; sequential requests\n")
    print("| request | p50 ms | p99 ms | items |\n|---|---:|---:|---:|")
    for label, p50, p99, total in rows:
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {total:,} |")
    print(f"\ntargets for /slots: p50 ≤ {TARGETS['p50']:.0f} ms, p99 ≤ {TARGETS['p99']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
