"""What the analytics rollup's triggers cost the write paths, on PostgreSQL, side by side.

    uv run python -m bench.rollup_writes [--rows 2000] [--bulk 200000]

In a scratch database (``BENCH_POSTGRES_DSN``, default the local server), alternating rounds
with the triggers enabled and disabled (``ALTER TABLE … DISABLE TRIGGER USER``): single-row
INSERTs of future ``active`` appointments (a booking: the hot path), single-row UPDATEs
active → attended (a PATCH that settles an appointment), and a COPY of settled history (the bulk
import and the data builder); then the time of ``rebuild_rollup`` over what was copied.
Prints microseconds per statement (median of each round) and seconds per COPY.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from bench.harness import scratch_database
from domain.services.rollup import rebuild_sql

BASE = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
COLUMNS = (
    "id", "patient_id", "clinician_id", "department_id", "status", "starts_at", "ends_at",
    "duration_minutes", "postcode", "created_at", "updated_at",
)  # fmt: skip
INSERT = (
    "INSERT INTO appointment (id, patient_id, clinician_id, department_id, status, starts_at, ends_at,"
    " duration_minutes, postcode, created_at, updated_at) VALUES ($1, 1, 1, 1, 'active', $2, $3, 15, 'N6 2FA', $2, $2)"
)


async def _timed(connection: asyncpg.Connection, statement: str, args: Sequence[tuple[Any, ...]]) -> float:
    """Median microseconds of ``statement`` run once per argument tuple, each in its own transaction."""
    timings = []
    for values in args:
        began = time.perf_counter()
        await connection.execute(statement, *values)
        timings.append((time.perf_counter() - began) * 1e6)
    return statistics.median(timings)


def _history(count: int, offset: int) -> list[tuple[Any, ...]]:
    """Settled history shaped like bench.analytics': 11 appointments per clinician per day, 50 clinicians."""
    rows = []
    for n in range(offset, offset + count):
        day, clinician, slot = n // 550, n // 11 % 50, n % 11
        start = dt.datetime(2020, 1, 1, 8, tzinfo=dt.UTC) + dt.timedelta(days=day, minutes=30 * slot)
        status = "missed" if n % 10 == 0 else "attended"
        rows.append((uuid.uuid4(), 1, clinician + 1, clinician % 8 + 1, status, start, start + dt.timedelta(minutes=15),
                     15, "N6 2FA", start, start))  # fmt: skip
    return rows


async def measure(dsn: str, rows: int, bulk: int) -> list[tuple[str, str, float]]:
    """Rounds alternating triggers on and off; returns (what, triggers, figure)."""
    connection = await asyncpg.connect(dsn)
    # Both variants pay the same flush at commit; without it the triggers' own work is what differs.
    await connection.execute("SET synchronous_commit = off")
    results = []
    try:
        await connection.execute(
            "INSERT INTO department (id, name, name_key) SELECT i, 'D' || i, 'd' || i FROM generate_series(1, 8) i;"
            "INSERT INTO clinician (id, name, name_key) SELECT i, 'C' || i, 'c' || i FROM generate_series(1, 50) i;"
            "INSERT INTO patient (id, nhs_number, name, name_search, date_of_birth, postcode, created_at, updated_at)"
            " VALUES (1, '9434765919', 'B', 'b', DATE '1970-01-01', 'N6 2FA', now(), now())"
        )
        slot = 0
        for round_number in range(4):
            enabled = round_number % 2 == 0
            switch = "ENABLE" if enabled else "DISABLE"
            await connection.execute(f"ALTER TABLE appointment {switch} TRIGGER USER")
            label = "on" if enabled else "off"
            bookings = []
            for _ in range(rows):
                start = BASE + dt.timedelta(minutes=15 * slot)
                bookings.append((uuid.uuid4(), start, start + dt.timedelta(minutes=15)))
                slot += 1
            results.append(("INSERT active (booking), µs", label, await _timed(connection, INSERT, bookings)))
            settle = "UPDATE appointment SET status = 'attended', updated_at = now() WHERE id = $1"
            ids = [(b[0],) for b in bookings]
            results.append(("UPDATE active → attended, µs", label, await _timed(connection, settle, ids)))
            history = _history(bulk, round_number * bulk)
            began = time.perf_counter()
            await connection.copy_records_to_table("appointment", records=history, columns=COLUMNS)
            results.append((f"COPY {bulk:,} settled rows, s", label, time.perf_counter() - began))
        await connection.execute("ALTER TABLE appointment ENABLE TRIGGER USER")
        began = time.perf_counter()
        async with connection.transaction():
            for statement in rebuild_sql("postgresql"):
                await connection.execute(statement)
        total = await connection.fetchval("SELECT count(*) FROM appointment")
        results.append((f"rebuild_rollup over {total:,} appointments, s", "-", time.perf_counter() - began))
    finally:
        await connection.close()
    return results


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--bulk", type=int, default=200_000)
    args = parser.parse_args()
    with scratch_database("panda_bench_rollup_writes") as dsn:
        results = asyncio.run(measure(dsn, args.rows, args.bulk))
    print("| write | triggers | figure |\n|---|---|---:|")
    for what, label, figure in results:
        print(f"| {what} | {label} | {figure:,.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
