"""Load: 100 concurrent clients for 30 s against 2 API processes and 2 workers on one PostgreSQL
and one Redis, all on loopback.

Bookings crowd onto a few clinicians and slots (most lose with 409), while others read,
reschedule and cancel; reminders fall due and are sent during the run. Passing means: no 5xx,
no failed request, and afterwards the database holds no overlap, no reminder sent after its
appointment's cancellation, no acknowledged cancellation undone and no acknowledged booking lost.
Throughput and latency are printed, never asserted.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.resilience.invariants import (
    fetch,
    lost_writes,
    overlapping_active,
    reminders_sent_after_cancellation,
    wait_for_due_reminders,
)
from tests.resilience.stack import Stack
from tests.resilience.traffic import Clients, Workload, register_patients, slot_grid

pytestmark = pytest.mark.slow

CLIENTS = 100
SECONDS = 30.0
PATIENTS = 200
CLINICIANS = [f"Dr Load {i}" for i in range(10)]
EXPECTED = {"book": {201, 409}, "read": {200}, "reschedule": {200, 409}, "cancel": {200, 409}}


async def test_100_clients_for_30_seconds_keep_every_rule(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Reminders 1 minute ahead: the near slots' reminders fall due during the run, racing cancellations.
    stack.settings = {"REMINDER_OFFSETS": "1m", "DB_POOL_SIZE": "10"}
    base_url = stack.start_api(processes=2)
    stack.start_worker("w1")
    stack.start_worker("w2")
    stack.start_scheduler()
    patients = await register_patients(base_url, PATIENTS)
    # One patient and clinician of its own that the workload never touches: whatever the random
    # traffic cancels or moves, one reminder falls due 15 s into the run and must go out during it.
    (control,) = await register_patients(base_url, 1, first=600_000_000)

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        booked = await client.post(
            "/appointments",
            json={"patient": control, "time": (now + dt.timedelta(seconds=75)).isoformat(), "duration": "1m",
                  "clinician": "Dr Control", "department": "Load", "postcode": "N1 9GU"},
        )  # fmt: skip
        assert booked.status_code == 201, booked.text
    workload = Workload(
        patients=patients,
        clinicians=CLINICIANS,
        # 1-minute appointments 10 s apart: neighbours overlap, and reminders fall due from 15 s in.
        near_slots=slot_grid(now + dt.timedelta(seconds=75), 12, dt.timedelta(seconds=10)),
        far_slots=slot_grid(now + dt.timedelta(days=2), 200, dt.timedelta(minutes=30)),
    )
    clients = Clients(base_url, workload, CLIENTS)
    elapsed = await clients.run(SECONDS)
    deadlocks = await fetch(stack.database_url, "SELECT deadlocks FROM pg_stat_database WHERE datname = 'panda'")
    with capsys.disabled():  # shown in every run, not only with -s
        print(f"\nload, {CLIENTS} clients: {clients.tally.report(elapsed)}; deadlocks {deadlocks[0][0]}")

    failures = [a for a in clients.tally.answers if a.status not in EXPECTED[a.kind]]
    assert not failures, f"{len(failures)} unexpected answers, e.g. {failures[:5]}\n{stack.errors()}"
    statuses = clients.tally.statuses()
    assert statuses[201] > 0 and statuses[409] > 0, "the run must both book and refuse bookings"
    assert clients.ledger.cancelled_at, "the run must cancel appointments"

    assert await wait_for_due_reminders(stack.database_url, timeout=60) == 0, "due reminders were never sent"
    sent = await fetch(stack.database_url, "SELECT count(*) FROM reminder WHERE status = 'sent'")
    assert sent[0][0] > 0, "reminders must go out during the run"
    assert await overlapping_active(stack.database_url) == 0
    assert await reminders_sent_after_cancellation(stack.database_url, clients.ledger) == []
    assert await lost_writes(stack.database_url, clients.ledger) == {
        "patients": [],
        "appointments": [],
        "cancellations": [],
    }
