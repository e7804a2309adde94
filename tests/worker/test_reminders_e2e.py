"""Reminders end to end: the API books, a real worker and scheduler on Redis send.

The workers plan reminders one minute before the start (``REMINDER_OFFSETS=1m``), so an
appointment booked 63 seconds ahead has a reminder due in 3 seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from api.app import create_app
from domain.config import Settings, get_settings
from domain.models import Appointment, Reminder
from tests.factories import nhs_number
from tests.http.helpers import book, create_patient
from tests.worker.conftest import wait_until
from tests.worker.processes import Process

DUE_IN = dt.timedelta(seconds=3)
OFFSET = dt.timedelta(minutes=1)
SEND_WITHIN = 20.0
# Further scheduler runs after the first send: enough for a duplicate to show if one could happen.
SETTLE_SECONDS = 3.0


@pytest.fixture
def planning_offsets() -> Iterator[None]:
    """This process plans reminders like the workers: one minute before the start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REMINDER_OFFSETS", "1m")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@pytest.fixture
def pg_settings(system_settings: Settings) -> Settings:
    """The running system's settings (no Redis database of the test's own: the worker uses the module's)."""
    return system_settings


@pytest.fixture
async def api(
    pg_settings: Settings, pg_sessions: object, system: list[Process], planning_offsets: None
) -> AsyncIterator[AsyncTestClient]:
    """The API on the workers' emptied database, with the module's worker and scheduler running."""
    async with AsyncTestClient(app=create_app(pg_settings)) as client:
        yield client


def soon(due_in: dt.timedelta = DUE_IN) -> dt.datetime:
    """A start whose reminder falls due ``due_in`` from now."""
    return dt.datetime.now(dt.UTC) + OFFSET + due_in


async def reminders_of(api: AsyncTestClient, appointment_id: str) -> list[dict]:
    response = await api.get(f"/appointments/{appointment_id}/reminders")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def outbox_of(api: AsyncTestClient, appointment_id: str) -> list[dict]:
    response = await api.get("/outbox", params={"appointment": appointment_id})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def wait_for_status(api: AsyncTestClient, appointment_id: str, status: str) -> dict:
    async def reached() -> bool:
        return [r["status"] for r in await reminders_of(api, appointment_id)] == [status]

    await wait_until(reached, SEND_WITHIN, f"the reminder to become {status}")
    return (await reminders_of(api, appointment_id))[0]


async def test_a_reminder_due_now_is_sent_exactly_once(api: AsyncTestClient) -> None:
    await create_patient(api, nhs_number(1), email="ann@example.org")
    appointment = await book(api, nhs_number(1), soon())

    reminder = await wait_for_status(api, appointment["id"], "sent")
    await asyncio.sleep(SETTLE_SECONDS)

    [message] = await outbox_of(api, appointment["id"])
    assert message["reminder_id"] == reminder["id"]
    assert message["recipient"] == "ann@example.org"
    [again] = await reminders_of(api, appointment["id"])
    assert (again["status"], again["attempts"], again["sent_at"]) == ("sent", 1, reminder["sent_at"])


async def test_cancelled_rescheduled_or_deleted_appointments_get_no_reminder(api: AsyncTestClient, pg_sessions) -> None:
    for index in range(4):
        await create_patient(api, nhs_number(index), email=f"p{index}@example.org")
    start = soon(due_in=dt.timedelta(seconds=8))  # time to book and change them all before it is due
    cancelled = await book(api, nhs_number(0), start, clinician="Dr A")
    moved = await book(api, nhs_number(1), start, clinician="Dr B")
    deleted = await book(api, nhs_number(2), start, clinician="Dr C")
    control = await book(api, nhs_number(3), start, clinician="Dr D")
    old_reminders = {r["id"] for booked in (cancelled, moved) for r in await reminders_of(api, booked["id"])}
    async with pg_sessions() as session:
        deleted_reminder = (
            await session.execute(select(Reminder.id).where(Reminder.appointment_id == uuid.UUID(deleted["id"])))
        ).scalar_one()

    assert (await api.patch(f"/appointments/{cancelled['id']}", json={"status": "cancelled"})).status_code == 200
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    assert (await api.patch(f"/appointments/{moved['id']}", json={"time": later})).status_code == 200
    assert (await api.delete(f"/appointments/{deleted['id']}")).status_code == 204

    await wait_for_status(api, control["id"], "sent")
    await asyncio.sleep(SETTLE_SECONDS)

    outbox = (await api.get("/outbox")).json()
    assert [m["appointment"] for m in outbox["items"]] == [control["id"]]
    assert [r["status"] for r in await reminders_of(api, cancelled["id"])] == ["cancelled"]
    moved_reminders = {r["id"]: r["status"] for r in await reminders_of(api, moved["id"])}
    assert {moved_reminders[r] for r in old_reminders if r in moved_reminders} == {"cancelled"}
    assert sorted(moved_reminders.values()) == ["cancelled", "scheduled"]
    async with pg_sessions() as session:
        assert (await session.get(Reminder, deleted_reminder)).status == "cancelled"  # type: ignore[union-attr]


async def test_a_patient_without_contact_details_is_skipped(api: AsyncTestClient) -> None:
    await create_patient(api, nhs_number(1))
    appointment = await book(api, nhs_number(1), soon())

    reminder = await wait_for_status(api, appointment["id"], "skipped")

    assert (reminder["attempts"], reminder["sent_at"]) == (0, None)
    assert await outbox_of(api, appointment["id"]) == []


async def test_an_ended_appointment_reads_missed_at_once_and_is_stored_missed(
    api: AsyncTestClient, pg_settings: Settings, pg_sessions
) -> None:
    await create_patient(api, nhs_number(1))
    end = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)
    appointment = await book(api, nhs_number(1), end - dt.timedelta(minutes=15), duration="15m")
    assert appointment["status"] == "active"

    await asyncio.sleep((end - dt.datetime.now(dt.UTC)).total_seconds())

    assert (await api.get(f"/appointments/{appointment['id']}")).json()["status"] == "missed"
    listed = (await api.get("/appointments", params={"status": "missed"})).json()["items"]
    assert [a["id"] for a in listed] == [appointment["id"]]

    async def stored_missed() -> bool:
        async with pg_sessions() as session:
            stored = await session.get(Appointment, uuid.UUID(appointment["id"]), populate_existing=True)
            return stored is not None and stored.status == "missed"

    # The scheduler's promise: stored within one interval, plus a few seconds of slack.
    await wait_until(stored_missed, pg_settings.scheduler_interval + 5, "the sweep to store missed")
