"""The API processes are killed (``kill -9``) in the middle of traffic and started again: every
write they acknowledged is there, read back through the new processes.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from tests.resilience.invariants import lost_writes
from tests.resilience.stack import Stack
from tests.resilience.traffic import Clients, Workload, register_patients, slot_grid

pytestmark = pytest.mark.slow


async def test_api_killed_mid_traffic_then_restarted_keeps_all_data(stack: Stack) -> None:
    base_url = stack.start_api(processes=2)
    patients = await register_patients(base_url, 40)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=5)
    workload = Workload(
        patients=patients,
        clinicians=[f"Dr Kill {i}" for i in range(4)],
        near_slots=[],
        far_slots=slot_grid(start, 60, dt.timedelta(minutes=30)),
        near_share=0.0,
    )
    clients = Clients(base_url, workload, concurrency=10)
    traffic = asyncio.create_task(clients.run(8))
    await asyncio.sleep(4)
    stack.process("api").kill_hard()  # the whole process group: no shutdown code runs
    await traffic

    answered = [a for a in clients.tally.answers if a.status]
    assert answered and all(a.status in {200, 201, 409} for a in answered), clients.tally.statuses()
    assert clients.tally.statuses()[0] > 0, "requests after the kill must have found no server"
    assert clients.ledger.appointments, "bookings must have been acknowledged before the kill"

    assert await lost_writes(stack.database_url, clients.ledger) == {
        "patients": [],
        "appointments": [],
        "cancellations": [],
    }
    new_url = stack.start_api("api-restarted", processes=2)
    async with httpx.AsyncClient(base_url=new_url, timeout=30) as client:
        for number in patients:
            assert (await client.get(f"/patients/{number}")).status_code == 200
        for appointment_id in clients.ledger.appointments:
            response = await client.get(f"/appointments/{appointment_id}")
            assert response.status_code == 200, appointment_id
            if appointment_id in clients.ledger.cancelled_at:
                assert response.json()["status"] == "cancelled"
        booked = await client.post(
            "/appointments",
            json=workload.booking(clients.rng) | {"time": (start - dt.timedelta(days=1)).isoformat()},
        )
        assert booked.status_code == 201, booked.text
