"""PostgreSQL goes down under load and comes back: the API says 503 meanwhile, then recovers by itself.

While the database is down every request that needs it gets a 503 problem document with
``Retry-After`` (never a 500, never a hang, never a dropped connection), and ``/ready`` says
503. Once it is back the same API processes serve again, and every write that got a 2xx,
before or after, is in the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import pytest

from tests.resilience.invariants import lost_writes, overlapping_active
from tests.resilience.postgres import PrivatePostgres
from tests.resilience.stack import Stack
from tests.resilience.traffic import Answer, Clients, Workload, register_patients, slot_grid

pytestmark = pytest.mark.slow

CLIENTS = 20
BEFORE, DOWN, AFTER = 8.0, 6.0, 16.0
RECOVERY_SECONDS = 10.0  # after the restart, by when every request must succeed again
READY_SECONDS = 5.0  # /ready answers within this, database or not


def assert_unavailable_problem(answer: Answer) -> None:
    """A 503 is a problem document telling the client to retry."""
    assert answer.content_type.startswith("application/problem+json"), answer
    assert answer.code == "service.unavailable", answer
    assert answer.retry_after, answer


async def ready(base_url: str) -> tuple[int, float, dict[str, str]]:
    """``/ready``'s status, how long it took, and its body."""
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{base_url}/ready")
    return response.status_code, time.monotonic() - started, response.json()


async def test_postgres_restart_under_load(stack: Stack, private_postgres: PrivatePostgres) -> None:
    stack.settings = {"DB_POOL_SIZE": "5"}
    base_url = stack.start_api(processes=2)
    patients = await register_patients(base_url, 60)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    workload = Workload(
        patients=patients,
        clinicians=[f"Dr Restart {i}" for i in range(5)],
        near_slots=[],
        far_slots=slot_grid(start, 100, dt.timedelta(minutes=30)),
        near_share=0.0,
    )
    clients = Clients(base_url, workload, CLIENTS)
    traffic = asyncio.create_task(clients.run(BEFORE + DOWN + AFTER))

    await asyncio.sleep(BEFORE)
    await asyncio.to_thread(private_postgres.stop)
    stopped = time.time()
    status, seconds, body = await ready(base_url)
    assert (status, body["database"]) == (503, "unavailable"), body
    assert seconds < READY_SECONDS, f"/ready took {seconds:.1f}s with the database down"
    await asyncio.sleep(DOWN)
    restarting = time.time()
    await asyncio.to_thread(private_postgres.start)
    restarted = time.time()
    await traffic

    answers = clients.tally.answers
    print(f"\npostgres restart: {clients.tally.report(BEFORE + DOWN + AFTER)}")
    odd = clients.tally.unexpected({200, 201, 409, 503})
    assert not odd, f"{len(odd)} answers neither served nor 503, e.g. {odd[:5]}\n{stack.errors()}"
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, "requests made while the database was down must have been answered 503"
    for answer in unavailable:
        assert_unavailable_problem(answer)
    served_while_down = [a for a in answers if stopped < a.at < restarting and a.status != 503]
    assert not served_while_down, served_while_down[:5]

    recovered = [a for a in answers if a.at > restarted + RECOVERY_SECONDS]
    assert recovered, "traffic must go on after the recovery window"
    assert all(a.status != 503 for a in recovered), [a for a in recovered if a.status == 503][:5]
    assert (await ready(base_url))[0] == 200
    assert stack.process("api").popen.poll() is None, "the API recovered without a restart"

    assert await lost_writes(stack.database_url, clients.ledger) == {
        "patients": [],
        "appointments": [],
        "cancellations": [],
    }
    assert await overlapping_active(stack.database_url) == 0
