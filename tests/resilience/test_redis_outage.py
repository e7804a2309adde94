"""Redis stops: bookings still succeed, ``/ready`` says 503, and reminders go out once Redis is back.

Reminders are rows in PostgreSQL, not tasks waiting in the broker, so an outage only delays
them; Redis comes back empty, and the reminder due meanwhile is sent late, exactly once. A job
uploaded meanwhile is accepted (its row is committed before its task is sent) and runs once
the broker is back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx
import pytest

from tests.resilience.stack import PrivateRedis, Stack
from tests.resilience.traffic import register_patients

pytestmark = pytest.mark.slow

DUE_IN = dt.timedelta(seconds=5)
SEND_SECONDS = 90.0  # the worker and the scheduler reconnect with back-off
JOB_FILE = b"nhs_number,name,date_of_birth,postcode\r\n9434765919,Ann,1970-01-01,N6 2FA\r\n"


async def reminders(client: httpx.AsyncClient, appointment_id: str) -> list[dict[str, Any]]:
    """The appointment's reminders as the API shows them."""
    response = await client.get(f"/appointments/{appointment_id}/reminders")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_redis_outage_delays_reminders_and_loses_nothing(stack: Stack, private_redis: PrivateRedis) -> None:
    stack.settings = {"REMINDER_OFFSETS": "1m", "JOB_STALL_SECONDS": "3"}
    base_url = stack.start_api(processes=2)
    stack.start_worker("w1")
    stack.start_scheduler()
    [patient] = await register_patients(base_url, 1)

    private_redis.stop()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        started = time.monotonic()
        ready = await client.get("/ready")
        assert ready.status_code == 503, ready.text
        assert ready.json() == {"status": "unavailable", "database": "ok", "broker": "unavailable"}
        assert time.monotonic() - started < 5.0, "/ready must answer promptly with the broker down"

        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1) + DUE_IN
        booking = {
            "patient": patient,
            "time": start.isoformat(),
            "duration": "30m",
            "clinician": "Dr Outage",
            "department": "Resilience",
            "postcode": "LS1 4AP",
        }
        booked = await client.post("/appointments", json=booking)
        assert booked.status_code == 201, booked.text
        appointment_id = booked.json()["id"]
        [planned] = await reminders(client, appointment_id)
        assert planned["status"] == "scheduled"

        upload = await client.post(
            "/jobs?kind=patients&mode=validate", content=JOB_FILE, headers={"Content-Type": "text/csv"}
        )
        assert upload.status_code == 202, upload.text
        job_path = upload.headers["location"]

        await asyncio.sleep(DUE_IN.total_seconds() + 3)
        assert (await client.get(job_path)).json()["status"] == "queued", "no worker could be told"
        [waiting] = await reminders(client, appointment_id)
        assert waiting["status"] == "scheduled", "without a broker nothing dispatches the due reminder"

        private_redis.start()
        deadline = time.monotonic() + SEND_SECONDS
        while (reminder := (await reminders(client, appointment_id))[0])["status"] == "scheduled":
            assert time.monotonic() < deadline, f"the reminder was not sent after Redis came back\n{stack.errors()}"
            await asyncio.sleep(0.5)
        assert reminder["status"] == "sent", reminder
        assert reminder["attempts"] == 1
        outbox = (await client.get("/outbox", params={"appointment": appointment_id})).json()
        assert outbox["total"] == 1, "sent exactly once"
        assert outbox["items"][0]["reminder_id"] == reminder["id"]
        assert (await client.get("/ready")).status_code == 200
        while (job := (await client.get(job_path)).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"the job did not run after Redis came back\n{stack.errors()}"
            await asyncio.sleep(0.5)
        assert (job["status"], job["valid"], job["invalid"]) == ("succeeded", 1, 0), job
