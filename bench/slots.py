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
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.analytics import CLINICIANS, seed
from bench.harness import free_port, scratch_database, server

LONDON = ZoneInfo("Europe/London")
TARGETS = {"p50": 50.0, "p99": 150.0}
DEPARTMENT = "Department 1"


async def add_schedules(dsn: str, now: dt.datetime) -> str:
    """Every clinician works in department 1, 08:00–18:00 London every day; returns one appointment id."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = [
            (uuid.uuid4(), clinician, 1, "N6 2FA", 127, 8 * 60, 18 * 60, 15, dt.date(2020, 1, 1), now, now)
            for clinician in range(1, CLINICIANS + 1)
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
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    tomorrow = now.astimezone(LONDON).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(0), tzinfo=LONDON)
    end = dt.datetime.combine(tomorrow + dt.timedelta(days=7), dt.time(0), tzinfo=LONDON)
    window = {"department": DEPARTMENT, "from": start.isoformat(), "to": end.isoformat(), "limit": "50"}
    with scratch_database("panda_bench_slots") as dsn, tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        asyncio.run(seed(dsn, args.appointments, now))
        appointment = asyncio.run(add_schedules(dsn, now))
        print(f"seeded {args.appointments:,} appointments in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        port = free_port()
        env = {"DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1), "LOG_LEVEL": "WARNING"}
        argv = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_factory", "--port", str(port)]
        with server(argv, env, port, Path(scratch) / "api.log") as base:
            rows = []
            for _round in range(2):  # alternate, so a busy moment of the machine hits both
                rows.append(("GET /slots (50 clinicians, 7 days)", *latencies(base, "/slots", window, args.samples)))
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
