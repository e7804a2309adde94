"""Analytics benchmark: ``/analytics/missed`` latency and the missed sweep on 1,000,000 appointments.

    uv run python -m bench.analytics [--appointments 1000000] [--samples 40]

Builds a scratch PostgreSQL database (``BENCH_POSTGRES_DSN``, default the local server) with 50
clinicians in 8 departments over 5 years, runs the API in a subprocess, and prints p50/p99
latency for every ``group_by`` × ``period`` over the last 12 months and over all 5 years, then
the time of the sweep that stores ``missed`` for ended ``active`` appointments.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from bench.harness import database_dsn, free_port, scratch_database, server, valid_nhs_numbers

LONDON = ZoneInfo("Europe/London")
CLINICIANS = 50
DEPARTMENTS = 8
PER_DAY = 11  # appointments per clinician per day: 50 × 11 × ~1,820 days ≈ 1,000,000
PATIENTS = 20_000
DURATIONS = (15, 30, 30, 45, 60)
COLUMNS = (
    "id", "patient_id", "clinician_id", "department_id", "status", "starts_at", "ends_at",
    "duration_minutes", "postcode", "created_at", "updated_at",
)  # fmt: skip
TARGETS = {"p50": 200.0, "p99": 500.0, "sweep": 5.0}


def past_status(rng: random.Random) -> str:
    """Ended appointments; 3 % are still ``active``, as a sweep backlog after a day of downtime would be."""
    roll = rng.random()
    if roll < 0.84:
        return "attended"
    if roll < 0.91:
        return "missed"
    if roll < 0.97:
        return "cancelled"
    return "active"


def future_status(rng: random.Random) -> str:
    """Appointments still to come: booked, a few already cancelled."""
    return "cancelled" if rng.random() < 0.05 else "active"


def appointments(total: int, now: dt.datetime, seed: int = 5) -> Iterator[tuple[object, ...]]:
    """Rows in COPY order: each clinician's day is back to back from 08:00 London, so none overlap.

    A patient is used at most once per day (index within the day, modulo the patient count), so
    no patient's active appointments overlap either.
    """
    rng = random.Random(seed)
    days = -(-total // (CLINICIANS * PER_DAY))
    future_days = days // 20  # about 3 months of a 5-year span are still to come
    first_day = (now.astimezone(LONDON) - dt.timedelta(days=days - future_days)).date()
    made = 0
    for day_index in range(days):
        day = first_day + dt.timedelta(days=day_index)
        opening = dt.datetime.combine(day, dt.time(8), tzinfo=LONDON).astimezone(dt.UTC)
        for clinician in range(CLINICIANS):
            start = opening
            for slot in range(PER_DAY):
                if made == total:
                    return
                minutes = rng.choice(DURATIONS)
                end = start + dt.timedelta(minutes=minutes)
                status = past_status(rng) if end <= now else future_status(rng)
                patient = (day_index * CLINICIANS * PER_DAY + clinician * PER_DAY + slot) % PATIENTS + 1
                yield (
                    uuid.UUID(int=rng.getrandbits(128), version=4), patient, clinician + 1,
                    clinician % DEPARTMENTS + 1, status, start, end, minutes, "N6 2FA", start, start,
                )  # fmt: skip
                made += 1
                start = end


async def seed(dsn: str, total: int, now: dt.datetime) -> int:
    """Directory, patients and ``total`` appointments by COPY; returns the sweep backlog size."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.executemany(
            "INSERT INTO department (id, name, name_key) VALUES ($1, $2, $3)",
            [(i + 1, f"Department {i + 1}", f"department {i + 1}") for i in range(DEPARTMENTS)],
        )
        await connection.executemany(
            "INSERT INTO clinician (id, name, name_key) VALUES ($1, $2, $3)",
            [(i + 1, f"Clinician {i + 1:02d}", f"clinician {i + 1:02d}") for i in range(CLINICIANS)],
        )
        born = dt.date(1970, 1, 1)
        patients = [
            (i + 1, number, "Bench Patient", "bench patient", born, "N6 2FA", now, now)
            for i, number in enumerate(valid_nhs_numbers(700_000_000, PATIENTS))
        ]
        await connection.copy_records_to_table(
            "patient",
            records=patients,
            columns=(
                "id",
                "nhs_number",
                "name",
                "name_search",
                "date_of_birth",
                "postcode",
                "created_at",
                "updated_at",
            ),
        )
        await connection.copy_records_to_table("appointment", records=appointments(total, now), columns=COLUMNS)
        await connection.execute("VACUUM ANALYZE")
        backlog = await connection.fetchval(
            "SELECT count(*) FROM appointment WHERE status = 'active' AND ends_at <= $1", now
        )
        return int(backlog)
    finally:
        await connection.close()


async def sweep_backlog(dsn: str, now: dt.datetime) -> int:
    """Ended appointments still stored ``active``."""
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM appointment WHERE status = 'active' AND ends_at <= $1", now)
        )
    finally:
        await connection.close()


async def appointment_count(dsn: str) -> int:
    """How many appointments the data set holds."""
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM appointment"))
    finally:
        await connection.close()


def latencies(
    base: str, params: dict[str, str], samples: int, path: str = "/analytics/missed"
) -> tuple[float, float, str]:
    """p50 and p99 in milliseconds over ``samples`` sequential requests (after two warm-ups), and
    how many items the report had (``over cap`` when it is refused as ``range.too_long``: the
    database still computed it, up to the cap and one more)."""
    timings = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for attempt in range(samples + 2):
            began = time.perf_counter()
            response = client.get(path, params=params)
            elapsed = (time.perf_counter() - began) * 1000
            if not (response.status_code == 400 and response.json().get("code") == "range.too_long"):
                response.raise_for_status()
            if attempt >= 2:
                timings.append(elapsed)
    if response.status_code == 400:
        items = "over cap"
    elif path == "/analytics/missed":
        items = f"{len(response.json()['items']):,}"
    else:
        items = "page"
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    return quantiles[49], quantiles[98], items


async def time_sweep(dsn: str) -> tuple[float, int, float]:
    """Time the project's sweep use case (``domain.services.sweep``) on the backlog, then with nothing to do."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from domain.config import Settings
    from domain.db import make_engine
    from domain.services.sweep import sweep_missed

    engine = make_engine(Settings(database_url=dsn.replace("postgresql://", "postgresql+asyncpg://", 1)))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        began = time.perf_counter()
        swept = await sweep_missed(sessions)
        elapsed = time.perf_counter() - began
        again = time.perf_counter()
        await sweep_missed(sessions)
        idle = time.perf_counter() - again
    finally:
        await engine.dispose()
    return elapsed, swept, idle


def main() -> int:
    """Seed, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument(
        "--database", help="an existing data set (e.g. panda_bench_history from bench.data) instead of seeding one"
    )
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    year_ago = (now.astimezone(LONDON) - dt.timedelta(days=365)).date().isoformat()
    data = nullcontext(database_dsn(args.database)) if args.database else scratch_database("panda_bench_analytics")
    with data as dsn, tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        if args.database:
            backlog = asyncio.run(sweep_backlog(dsn, now))
            print(f"reading {args.database}: {asyncio.run(appointment_count(dsn)):,} appointments", file=sys.stderr)
        else:
            backlog = asyncio.run(seed(dsn, args.appointments, now))
            print(f"seeded {args.appointments:,} appointments in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        port = free_port()
        env = {"DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1), "LOG_LEVEL": "WARNING"}
        argv = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_factory", "--port", str(port)]
        rows = []
        with server(argv, env, port, Path(scratch) / "api.log") as base:
            for label, bounds in (("last 12 months", {"from": year_ago}), ("all 5 years", {})):
                for group_by in ("department", "clinician"):
                    for period in ("day", "week", "month"):
                        params = {"group_by": group_by, "period": period, **bounds}
                        p50, p99, items = latencies(base, params, args.samples)
                        rows.append((label, group_by, period, items, p50, p99))
            p50, p99, items = latencies(base, {}, args.samples, path="/insight/")
            rows.append(("all 5 years", "/insight overview", "month", items, p50, p99))
        sweep, swept, idle = asyncio.run(time_sweep(dsn))
    print("| range | group_by | period | items | p50 ms | p99 ms |\n|---|---|---|---:|---:|---:|")
    for label, group_by, period, items, p50, p99 in rows:
        print(f"| {label} | {group_by} | {period} | {items} | {p50:.0f} | {p99:.0f} |")
    print(
        f"\nmissed sweep (domain.services.sweep.sweep_missed): {sweep:.2f} s for a backlog of {swept:,} rows "
        f"(seeded {backlog:,}); {idle * 1000:.1f} ms with nothing left to sweep"
    )
    print(f"targets: p50 ≤ {TARGETS['p50']:.0f} ms, p99 ≤ {TARGETS['p99']:.0f} ms, sweep ≤ {TARGETS['sweep']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
