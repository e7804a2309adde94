"""What an audit event costs the database: alone (one statement, one commit) or in a batch.

    uv run python -m bench.audit_batches [--events 20000]

On a scratch database migrated by this build, stores ``--events`` read events through
:data:`domain.audit.events.INSERT_EVENTS` in batches of 1, 4, 8, 16 and 64 (one statement and one
commit per batch, as the API's :class:`api.audit_writer.EventWriter` does), and, for comparison,
a patient read with its event in the same statement (how reads were audited before the writer)
and the bare read. Prints the CPU of every ``postgres`` process per event and the rate; one
connection, one statement at a time, the runs seconds apart on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg

from bench.api_cpu import database_cpu_seconds
from bench.harness import scratch_database, valid_nhs_numbers
from domain.audit.events import INSERT_EVENTS, Action, ResourceType, batch_parameters, event_row
from domain.auth.actor import Actor, Role

READER = Actor("clinician", frozenset({Role.CLINICIAN}))
SELECT = "SELECT * FROM patient WHERE nhs_number = $1"
SELECT_WITH_EVENT = (
    "WITH main AS (SELECT * FROM patient WHERE nhs_number = $12), event AS (INSERT INTO audit_event"
    " (id, at, actor, roles, action, resource_type, resource_id, patient, outcome, request_id, changes)"
    " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM main) SELECT * FROM main"
)


def read_event(number: str) -> dict[str, object]:
    return event_row(READER, Action.READ, 200, resource_type=ResourceType.PATIENT, resource_id=number, patient=number)


async def measured(count: int, run: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(database CPU µs per event, events/s) over ``run``, which handles ``count`` events."""
    cpu, started = database_cpu_seconds(), time.perf_counter()
    await run()
    elapsed, used = time.perf_counter() - started, database_cpu_seconds() - cpu
    return used / count * 1e6, count / elapsed


async def compare(dsn: str, events: int) -> list[tuple[str, float, float]]:
    connection = await asyncpg.connect(dsn)
    numbers = valid_nhs_numbers(900_000_000, 200)
    await connection.executemany(
        "INSERT INTO patient (nhs_number, name, name_search, date_of_birth, postcode, created_at, updated_at)"
        " VALUES ($1, 'Seed', 'seed', '1970-01-01', 'N1 9GU', now(), now())",
        [(number,) for number in numbers],
    )
    sql, names, _defaults = INSERT_EVENTS.for_asyncpg()
    results = []

    async def bare() -> None:
        for i in range(events):
            await connection.fetchrow(SELECT, numbers[i % len(numbers)])

    async def read_with_event() -> None:
        for i in range(events):
            number = numbers[i % len(numbers)]
            await connection.fetchrow(SELECT_WITH_EVENT, *read_event(number).values(), number)

    results.append(("read alone (no event)", *await measured(events, bare)))
    results.append(("read with its event, one statement", *await measured(events, read_with_event)))
    for size in (1, 4, 8, 16, 64):

        async def batches(size: int = size) -> None:
            for start in range(0, events, size):
                rows = [read_event(numbers[(start + i) % len(numbers)]) for i in range(size)]
                columns = batch_parameters(rows)
                await connection.execute(sql, *(columns[name] for name in names))

        results.append((f"events in batches of {size}", *await measured(events, batches)))
    await connection.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    with scratch_database("panda_bench_audit_batches") as dsn:
        results = asyncio.run(compare(dsn, args.events))
    print(f"\nAudit events on PostgreSQL, {args.events:,} per run, one connection\n")
    print("| run | database CPU µs per event | events/s |")
    print("|---|---:|---:|")
    for label, cpu, rate in results:
        print(f"| {label} | {cpu:.0f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
