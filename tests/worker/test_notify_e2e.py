"""Reminders through GOV.UK Notify end to end: the API books, a real worker and scheduler on Redis
send to the Notify double on loopback, and the double posts its receipts to a live API.

Patients preferring e-mail, SMS, nothing, and Welsh each get exactly the right message, once; a
429 is retried, a 400 ends ``failed``; receipts update ``delivery`` and a repeat changes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from litestar.testing import AsyncTestClient

from api.app import create_app
from domain.config import Settings
from tests.factories import nhs_number
from tests.http.helpers import book, create_patient
from tests.http.live_server import live_api
from tests.reminders.notify_double import (
    API_KEY,
    EMAIL_TEMPLATE,
    SMS_TEMPLATE,
    NotifyDouble,
    notify_double,
    sending_through,
)
from tests.reminders.seed import reminder_states, seed_due_reminders, status_counts
from tests.worker.conftest import wait_until, worker_env
from tests.worker.processes import Process, start_beat, start_worker

CALLBACK_TOKEN = "e2e-callback-token"
OFFSET = dt.timedelta(minutes=1)
SEND_WITHIN = 40.0
SETTLE_SECONDS = 3.0
MOBILE = "07700 900123"


@pytest.fixture
def notify() -> Iterator[NotifyDouble]:
    with notify_double() as double:
        yield double


@pytest.fixture
def notify_pg_settings(pg_settings: Settings, notify: NotifyDouble) -> Settings:
    return sending_through(pg_settings, notify, CALLBACK_TOKEN)


def notify_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The workers' environment for the notify channel, with quick retries and short leases."""
    return worker_env(
        settings,
        NOTIFY_API_KEY=API_KEY,
        NOTIFY_BASE_URL=str(settings.notify_base_url),
        NOTIFY_EMAIL_TEMPLATE_ID=EMAIL_TEMPLATE,
        NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE,
        REMINDER_RETRY_SECONDS="0.5",
        REMINDER_RETRY_MAX_SECONDS="1",
        SEND_TIMEOUT_SECONDS="5",
        **extra,
    )


@pytest.fixture
def running(notify_pg_settings: Settings, pg_sessions: Any, processes: list[Process], tmp_path: Path) -> None:
    env = notify_env(notify_pg_settings)
    processes.append(start_worker(env, tmp_path, wait=False))
    processes.append(start_beat(env, tmp_path, wait=False))
    processes[0].wait_for(" ready.")
    processes[1].wait_for("beat: Starting...")


@pytest.fixture
async def api(notify_pg_settings: Settings, running: None) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(notify_pg_settings)) as client:
        yield client


@pytest.fixture
def callback_url(notify_pg_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A live ``panda api`` (one process) that Notify's receipts can reach."""
    monkeypatch.setenv("NOTIFY_CALLBACK_TOKEN", CALLBACK_TOKEN)
    with live_api(notify_pg_settings, processes=1) as base_url:
        yield f"{base_url}/callbacks/notify"


async def reminder_of(api: AsyncTestClient[Any], appointment_id: str) -> dict[str, Any]:
    response = await api.get(f"/appointments/{appointment_id}/reminders")
    assert response.status_code == 200, response.text
    [reminder] = response.json()["items"]
    return dict(reminder)


async def test_each_patient_gets_the_right_message_once_and_receipts_come_back(
    api: AsyncTestClient[Any], notify: NotifyDouble, callback_url: str
) -> None:
    patients = {
        "email": {"email": "ann@example.org", "phone": MOBILE},
        "sms": {"email": "bob@example.org", "phone": MOBILE, "reminder_preference": "sms"},
        "none": {"email": "cat@example.org", "reminder_preference": "none"},
        "welsh": {"email": "dai@example.org", "language": "cy"},
        "throttled": {"email": "eve@example.org"},
        "refused": {"email": "fay@example.org"},
    }
    notify.script("eve@example.org", 429)
    notify.script("fay@example.org", 400)
    start = dt.datetime.now(dt.UTC) + OFFSET + dt.timedelta(seconds=6)
    booked: dict[str, str] = {}
    for index, (kind, details) in enumerate(patients.items()):
        await create_patient(api, nhs_number(index), name=f"Patient {kind}", **details)
        booked[kind] = (await book(api, nhs_number(index), start, clinician=f"Dr {kind}"))["id"]

    async def settled() -> bool:
        return all([(await reminder_of(api, a))["status"] != "scheduled" for a in booked.values()])

    await wait_until(settled, SEND_WITHIN, "every reminder settled")
    await asyncio.sleep(SETTLE_SECONDS)  # more scheduler runs: a duplicate would show now
    shown = {kind: await reminder_of(api, appointment) for kind, appointment in booked.items()}

    assert {kind: r["status"] for kind, r in shown.items()} == {
        "email": "sent",
        "sms": "sent",
        "none": "skipped",
        "welsh": "sent",
        "throttled": "sent",
        "refused": "failed",
    }
    assert (shown["throttled"]["attempts"], shown["refused"]["attempts"]) == (2, 1)
    by_reference = {n.reference: n for n in notify.accepted}
    assert len(notify.accepted) == len(by_reference) == 4  # once each
    sent = {kind: by_reference[shown[kind]["id"]] for kind in ("email", "sms", "welsh", "throttled")}
    assert {kind: (n.type, n.to) for kind, n in sent.items()} == {
        "email": ("email", "ann@example.org"),
        "sms": ("sms", "+447700900123"),
        "welsh": ("email", "dai@example.org"),
        "throttled": ("email", "eve@example.org"),
    }
    assert sent["welsh"].personalisation["subject"] == "Atgoffa am apwyntiad"
    assert sent["email"].personalisation["subject"] == "Appointment reminder"
    assert sent["email"].personalisation["name"] == "Patient email"
    assert sent["email"].personalisation["clinician"] == "Dr email"
    assert (shown["sms"]["medium"], shown["welsh"]["language"]) == ("sms", "cy")

    assert notify.send_receipts(callback_url, CALLBACK_TOKEN) == [204] * 4
    delivered = {kind: await reminder_of(api, booked[kind]) for kind in sent}
    assert {r["delivery"] for r in delivered.values()} == {"delivered"}
    assert notify.send_receipts(callback_url, CALLBACK_TOKEN) == [204] * 4  # repeated: nothing changes
    assert {kind: await reminder_of(api, booked[kind]) for kind in sent} == delivered

    unknown = {"id": str(uuid.uuid4()), "reference": str(uuid.uuid4()), "status": "delivered"}
    auth = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}
    assert httpx.post(callback_url, json=unknown, headers=auth).status_code == 404
    assert httpx.post(callback_url, json=unknown, headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.slow
async def test_kill_9_mid_batch_then_redis_flushed_every_reminder_goes_with_its_key(
    notify_pg_settings: Settings, pg_sessions: Any, processes: list[Process], tmp_path: Path, notify: NotifyDouble
) -> None:
    """At least once, never lost: a send the dead worker made may go again, with the same reference."""

    total = 60
    notify.delay = 0.05
    # The dead worker's leased batch is due again after its sends' deadlines plus this margin.
    env = notify_env(notify_pg_settings, REMINDER_LEASE_MARGIN_SECONDS="2")
    seeded = await seed_due_reminders(pg_sessions, total, channel="notify", email="ann@example.org")
    first = start_worker(env, tmp_path, "w1")
    processes.append(first)
    processes.append(start_beat(env, tmp_path))

    await wait_until(lambda: _at_least(notify, 15), SEND_WITHIN, "15 notifications")
    os.kill(first.children()[0], signal.SIGKILL)
    first.kill_hard()
    assert len(notify.accepted) < total, "the worker must die in the middle of the run"
    client = redis.Redis.from_url(notify_pg_settings.broker_url)
    client.flushdb()
    client.close()
    processes.append(start_worker(env, tmp_path, "w2"))

    async def all_sent() -> bool:
        return await status_counts(pg_sessions) == {"sent": total}

    await wait_until(all_sent, 120.0, "every reminder sent")
    references = [n.reference for n in notify.accepted]
    assert set(references) == {str(r) for r in seeded.reminder_ids}
    assert len(references) - len(set(references)) <= 2  # at most the sends in flight when it died
    assert {row["attempts"] for row in (await reminder_states(pg_sessions)).values()} == {1}


async def _at_least(notify: NotifyDouble, count: int) -> bool:
    return len(notify.accepted) >= count
