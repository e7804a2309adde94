"""``POST /callbacks/notify``: GOV.UK Notify's delivery receipts, recorded on the reminder they name.

Reminders are booked through the API on the ``notify`` channel, sent to the Notify double, and
the double's receipts (Notify's callback body) are posted back to the API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from api.app import create_app
from domain.config import Settings
from domain.models import Patient, Reminder
from domain.services.dispatch import drain
from tests.factories import nhs_number, now
from tests.http.helpers import assert_problem, book, create_patient
from tests.reminders.conftest import CALLBACK_TOKEN
from tests.reminders.notify_double import NotifyDouble, receipt
from tests.reminders.test_api import make_due, reminders_of

BUDGET = 30.0
MOBILE = "+447700900123"
AUTH = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}


@pytest.fixture
async def api(notify_settings: Settings, engine: Any) -> AsyncIterator[AsyncTestClient[Any]]:
    """The API configured for the notify channel and its callback token."""
    async with AsyncTestClient(app=create_app(notify_settings)) as client:
        yield client


async def sent_reminder(api: Any, sessions: Any, settings: Settings, **patient: Any) -> dict[str, Any]:
    """Book an appointment three days ahead and send its reminders now; the appointment's view."""
    await create_patient(api, nhs_number(1), **patient)
    appointment = await book(api, nhs_number(1), now() + dt.timedelta(days=3))
    await make_due(sessions, appointment["id"])
    assert await drain(sessions, "notify", settings, BUDGET) == {"sent": 2}
    return appointment


async def post_receipt(api: Any, body: dict[str, Any], headers: dict[str, str] = AUTH) -> Any:
    return await api.post("/callbacks/notify", json=body, headers=headers)


async def test_a_receipt_records_delivery_on_the_reminder_and_a_repeat_changes_nothing(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble
) -> None:
    appointment = await sent_reminder(api, sessions, notify_settings, email="ann@example.org")
    first = notify.accepted[0]
    body = receipt(first, "delivered")

    assert (await post_receipt(api, body)).status_code == 204

    shown = {item["id"]: item for item in await reminders_of(api, appointment["id"])}
    assert shown[first.reference]["delivery"] == "delivered"
    assert shown[first.reference]["delivered_at"].endswith("+00:00")
    assert [item["delivery"] for ref, item in shown.items() if ref != first.reference] == [None]
    async with sessions() as session:
        before = (await session.execute(select(Reminder.__table__))).mappings().all()

    assert (await post_receipt(api, body)).status_code == 204

    async with sessions() as session:
        after = (await session.execute(select(Reminder.__table__))).mappings().all()
    assert [dict(row) for row in after] == [dict(row) for row in before]


async def test_the_double_posts_receipts_that_the_api_accepts(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble
) -> None:
    appointment = await sent_reminder(api, sessions, notify_settings, email="ann@example.org")
    for notification in notify.accepted:
        assert (await post_receipt(api, receipt(notification, "temporary-failure"))).status_code == 204
    assert {item["delivery"] for item in await reminders_of(api, appointment["id"])} == {"temporary-failure"}


async def test_an_unknown_or_malformed_reference_is_404(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await sent_reminder(api, sessions, notify_settings, email="ann@example.org")
    body = receipt(notify.accepted[0], "delivered")

    assert_problem(await post_receipt(api, {**body, "reference": str(uuid.uuid4())}), 404, "reminder.not_found")
    assert_problem(await post_receipt(api, {**body, "reference": "not-a-reminder"}), 404, "reminder.not_found")
    assert_problem(await post_receipt(api, {**body, "reference": None}), 404, "reminder.not_found")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": CALLBACK_TOKEN},
        {"Authorization": f"bearer {CALLBACK_TOKEN}x"},
    ],
)
async def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble, headers: dict[str, str]
) -> None:
    appointment = await sent_reminder(api, sessions, notify_settings, email="ann@example.org")

    assert_problem(await post_receipt(api, receipt(notify.accepted[0], "delivered"), headers), 401)
    assert_problem(await post_receipt(api, {"garbage": True}, headers), 401)  # refused before the body is read
    assert {item["delivery"] for item in await reminders_of(api, appointment["id"])} == {None}


async def test_no_configured_token_admits_no_one(notify_settings: Settings, engine: Any, notify: NotifyDouble) -> None:
    unconfigured = notify_settings.model_copy(update={"notify_callback_token": None})
    async with AsyncTestClient(app=create_app(unconfigured)) as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
            assert_problem(await client.post("/callbacks/notify", json={}, headers=headers), 401)


async def test_a_malformed_receipt_is_400_and_changes_nothing(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble
) -> None:
    appointment = await sent_reminder(api, sessions, notify_settings, email="ann@example.org")
    body = receipt(notify.accepted[0], "delivered")

    problem = assert_problem(await post_receipt(api, {**body, "status": "lost"}), 400)
    assert problem["errors"][0]["field"] == "status"
    assert_problem(await api.post("/callbacks/notify", content=b"{", headers=AUTH), 400)
    assert {item["delivery"] for item in await reminders_of(api, appointment["id"])} == {None}


async def patient_flags(sessions: Any) -> tuple[bool, bool]:
    table = Patient.__table__
    async with sessions() as session:
        row = (await session.execute(select(table.c.email_unusable, table.c.phone_unusable))).one()
    return bool(row[0]), bool(row[1])


async def test_a_permanent_failure_makes_that_detail_unusable_until_it_changes(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await sent_reminder(api, sessions, notify_settings, email="gone@example.org", phone=MOBILE)
    assert {n.type for n in notify.accepted} == {"email"}

    assert (await post_receipt(api, receipt(notify.accepted[0], "permanent-failure"))).status_code == 204
    assert await patient_flags(sessions) == (True, False)
    assert (await api.get(f"/patients/{nhs_number(1)}")).json()["undeliverable"] == ["email"]

    # The default rule now reaches the patient by SMS.
    second = await book(api, nhs_number(1), now() + dt.timedelta(days=5))
    await make_due(sessions, second["id"])
    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 2}
    assert [n.type for n in notify.accepted[2:]] == ["sms", "sms"]

    # A receipt naming an address the patient no longer has flags nothing; a new address is usable.
    response = await api.patch(f"/patients/{nhs_number(1)}", json={"email": "new@example.org"})
    assert response.status_code == 200, response.text
    assert await patient_flags(sessions) == (False, False)
    assert (await post_receipt(api, receipt(notify.accepted[1], "permanent-failure"))).status_code == 204
    assert await patient_flags(sessions) == (False, False)

    # An SMS that fails for good flags the phone.
    assert (await post_receipt(api, receipt(notify.accepted[2], "permanent-failure"))).status_code == 204
    assert await patient_flags(sessions) == (False, True)
    assert (await api.get(f"/patients/{nhs_number(1)}")).json()["undeliverable"] == ["phone"]


async def test_opting_out_skips_due_reminders_and_opting_back_in_lets_the_unsent_go(
    api: Any, sessions: Any, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await create_patient(api, nhs_number(1), email="ann@example.org", reminder_preference="none")
    appointment = await book(api, nhs_number(1), now() + dt.timedelta(days=3))
    first, second = await reminders_of(api, appointment["id"])
    async with sessions() as session, session.begin():
        await session.execute(
            update(Reminder.__table__)
            .where(Reminder.__table__.c.id == uuid.UUID(first["id"]))
            .values(due_at=now() - dt.timedelta(seconds=1))
        )
    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"skipped": 1}

    response = await api.patch(f"/patients/{nhs_number(1)}", json={"reminder_preference": "email"})
    assert response.status_code == 200, response.text
    await make_due(sessions, appointment["id"])
    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 1}

    shown = {r["id"]: r for r in await reminders_of(api, appointment["id"])}
    assert (shown[first["id"]]["status"], shown[second["id"]]["status"]) == ("skipped", "sent")
    assert [n.reference for n in notify.accepted] == [second["id"]]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "\xff\xfe", "status": "delivered"}',
        b'{"id": "x", "status": "delivered", "reference": 1' + b"0" * 100_000 + b"}",
        b"",
        b"null",
    ],
    ids=["deep", "not-utf8", "long-number", "empty", "null"],
)
async def test_hostile_receipt_bodies_are_400_problems(api: Any, body: bytes) -> None:
    response = await api.post("/callbacks/notify", content=body, headers={**AUTH, "content-type": "application/json"})
    assert_problem(response, 400)
