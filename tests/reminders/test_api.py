"""``GET /appointments/{id}/reminders`` and ``GET /outbox``, and how bookings plan and cancel reminders."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, update

from domain.models import Reminder
from domain.services.dispatch import drain
from tests.factories import nhs_number, now, parse_instant
from tests.http.helpers import assert_problem, book, create_patient, field_codes

HOUR = dt.timedelta(hours=1)
REMINDER = Reminder.__table__


async def make_due(sessions, appointment_id: str) -> None:
    """Time passes: the appointment's scheduled reminders fall due."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(REMINDER)
            .where(REMINDER.c.appointment_id == uuid.UUID(appointment_id), REMINDER.c.status == "scheduled")
            .values(due_at=now() - dt.timedelta(seconds=1))
        )


async def reminders_of(client, appointment_id: str) -> list[dict]:
    response = await client.get(f"/appointments/{appointment_id}/reminders")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_booking_plans_a_reminder_per_offset(client) -> None:
    await create_patient(client, nhs_number(1), email="ann@example.org")
    start = now() + 72 * HOUR
    appointment = await book(client, nhs_number(1), start)

    response = await client.get(f"/appointments/{appointment['id']}/reminders")

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [parse_instant(item["due_at"]) for item in page["items"]] == [start - 24 * HOUR, start - 2 * HOUR]
    for item in page["items"]:
        assert set(item) == {
            *("id", "due_at", "channel", "status", "attempts", "sent_at"),
            *("medium", "language", "delivery", "delivered_at"),  # SPEC §11
        }
        assert (item["channel"], item["status"], item["attempts"], item["sent_at"]) == ("outbox", "scheduled", 0, None)
        uuid.UUID(item["id"])


async def test_offsets_already_past_are_not_planned(client) -> None:
    await create_patient(client, nhs_number(1))
    soon = await book(client, nhs_number(1), now() + 5 * HOUR)
    past = await book(client, nhs_number(1), now() - 48 * HOUR)

    assert [r["due_at"] for r in await reminders_of(client, soon["id"])] == [
        (parse_instant(soon["time"]) - 2 * HOUR).isoformat()
    ]
    assert await reminders_of(client, past["id"]) == []


async def test_the_reminder_list_is_paginated(client) -> None:
    await create_patient(client, nhs_number(1))
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    every = await reminders_of(client, appointment["id"])

    response = await client.get(f"/appointments/{appointment['id']}/reminders", params={"limit": 1, "offset": 1})

    assert response.json() == {"items": every[1:], "total": 2, "limit": 1, "offset": 1}
    bad = await client.get(f"/appointments/{appointment['id']}/reminders", params={"limit": 0})
    assert field_codes(assert_problem(bad, 400)) == {"limit": "query.limit"}


async def test_unknown_or_malformed_appointment_ids_are_404(client) -> None:
    assert_problem(await client.get(f"/appointments/{uuid.uuid4()}/reminders"), 404, "appointment.not_found")
    assert_problem(await client.get("/appointments/not-a-uuid/reminders"), 404, "appointment.not_found")


async def test_cancelling_cancels_the_unsent_reminders(client) -> None:
    await create_patient(client, nhs_number(1))
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)

    response = await client.patch(f"/appointments/{appointment['id']}", json={"status": "cancelled"})

    assert response.status_code == 200, response.text
    assert {r["status"] for r in await reminders_of(client, appointment["id"])} == {"cancelled"}


async def test_rescheduling_replaces_the_reminders(client) -> None:
    await create_patient(client, nhs_number(1))
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    before = await reminders_of(client, appointment["id"])
    new_start = now() + 120 * HOUR

    response = await client.patch(f"/appointments/{appointment['id']}", json={"time": new_start.isoformat()})

    assert response.status_code == 200, response.text
    after = {r["id"]: r for r in await reminders_of(client, appointment["id"])}
    assert {after[r["id"]]["status"] for r in before} == {"cancelled"}
    planned = sorted(parse_instant(r["due_at"]) for r in after.values() if r["status"] == "scheduled")
    assert planned == [new_start - 24 * HOUR, new_start - 2 * HOUR]


@pytest.mark.parametrize(
    "change",
    [{"postcode": "CF10 1AA"}, {"clinician": "Dr Elsewhere"}, {"duration": "45m"}, {"department": "Elsewhere"}],
)
async def test_a_reschedule_in_place_or_length_replaces_the_unsent_reminders(client, change) -> None:
    """SPEC §3 counts time, duration, clinician and postcode as a reschedule; SPEC §6 cancels a
    rescheduled appointment's unsent reminders and plans new ones."""
    await create_patient(client, nhs_number(1))
    start = now() + 72 * HOUR
    appointment = await book(client, nhs_number(1), start)
    before = await reminders_of(client, appointment["id"])

    response = await client.patch(f"/appointments/{appointment['id']}", json=change)

    assert response.status_code == 200, response.text
    after = {r["id"]: r for r in await reminders_of(client, appointment["id"])}
    assert {after[r["id"]]["status"] for r in before} == {"cancelled"}
    planned = sorted(parse_instant(r["due_at"]) for r in after.values() if r["status"] == "scheduled")
    assert planned == [start - 24 * HOUR, start - 2 * HOUR]


async def test_a_patch_that_changes_nothing_keeps_the_reminders(client) -> None:
    await create_patient(client, nhs_number(1))
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    before = await reminders_of(client, appointment["id"])
    same = {"postcode": appointment["postcode"], "duration": appointment["duration"]}

    assert (await client.patch(f"/appointments/{appointment['id']}", json=same)).status_code == 200

    assert await reminders_of(client, appointment["id"]) == before


async def test_deleting_an_appointment_keeps_its_reminders_cancelled(client, sessions) -> None:
    await create_patient(client, nhs_number(1))
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    ids = [uuid.UUID(r["id"]) for r in await reminders_of(client, appointment["id"])]

    assert (await client.delete(f"/appointments/{appointment['id']}")).status_code == 204

    assert_problem(await client.get(f"/appointments/{appointment['id']}/reminders"), 404)
    async with sessions() as session:
        rows = (await session.execute(select(REMINDER).where(REMINDER.c.id.in_(ids)))).mappings().all()
    assert {(row["status"], row["appointment_id"]) for row in rows} == {("cancelled", None)}


async def test_erasing_the_patient_cancels_the_reminders(client, sessions) -> None:
    await create_patient(client, nhs_number(1), email="ann@example.org")
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)

    assert (await client.delete(f"/patients/{nhs_number(1)}")).status_code == 204

    assert {r["status"] for r in await reminders_of(client, appointment["id"])} == {"cancelled"}


async def test_a_sent_reminder_shows_its_attempts_and_time(client, sessions, settings) -> None:
    await create_patient(client, nhs_number(1), email="ann@example.org")
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    await make_due(sessions, appointment["id"])

    await drain(sessions, "outbox", settings, 10)

    reminders = await reminders_of(client, appointment["id"])
    assert {(r["status"], r["attempts"]) for r in reminders} == {("sent", 1)}
    assert all(parse_instant(r["sent_at"]) <= now() + dt.timedelta(seconds=1) for r in reminders)


async def test_the_outbox_lists_messages_newest_first(client, sessions, settings) -> None:
    await create_patient(client, nhs_number(1), email="ann@example.org")
    await create_patient(client, nhs_number(2), phone="+447700900123")
    first = await book(client, nhs_number(1), now() + 72 * HOUR, clinician="Dr A")
    await make_due(sessions, first["id"])
    await drain(sessions, "outbox", settings, 10)
    second = await book(client, nhs_number(2), now() + 96 * HOUR, clinician="Dr B", department="Renal")
    await make_due(sessions, second["id"])
    await drain(sessions, "outbox", settings, 10)

    response = await client.get("/outbox")

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 50, 0)
    assert [item["appointment"] for item in page["items"]] == [second["id"]] * 2 + [first["id"]] * 2
    newest = page["items"][0]
    assert set(newest) == {
        *("id", "reminder_id", "appointment", "recipient", "subject", "body", "created_at"),
        *("medium", "language"),  # SPEC §11
    }
    assert newest["recipient"] == "+447700900123"
    assert newest["subject"] == "Appointment reminder"
    assert "Renal" in newest["body"]
    assert newest["created_at"].endswith("+00:00")
    reminder_ids = {r["id"] for r in await reminders_of(client, second["id"])}
    assert {item["reminder_id"] for item in page["items"][:2]} == reminder_ids


async def test_the_outbox_filters_by_appointment(client, sessions, settings) -> None:
    await create_patient(client, nhs_number(1), email="ann@example.org")
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    other = await book(client, nhs_number(1), now() + 96 * HOUR)
    for booked in (appointment, other):
        await make_due(sessions, booked["id"])
    await drain(sessions, "outbox", settings, 10)

    response = await client.get("/outbox", params={"appointment": appointment["id"], "limit": 1})

    page = response.json()
    assert (page["total"], len(page["items"])) == (2, 1)
    assert page["items"][0]["appointment"] == appointment["id"]
    empty = await client.get("/outbox", params={"appointment": str(uuid.uuid4())})
    assert empty.json()["total"] == 0
    bad = await client.get("/outbox", params={"appointment": "nope"})
    assert field_codes(assert_problem(bad, 400)) == {"appointment": "id.format"}


async def test_erasing_the_patient_removes_their_outbox_messages(client, sessions, settings) -> None:
    await create_patient(client, nhs_number(1), email="ann@example.org")
    appointment = await book(client, nhs_number(1), now() + 72 * HOUR)
    await make_due(sessions, appointment["id"])
    await drain(sessions, "outbox", settings, 10)
    assert (await client.get("/outbox")).json()["total"] == 2

    assert (await client.delete(f"/patients/{nhs_number(1)}")).status_code == 204

    assert (await client.get("/outbox")).json()["total"] == 0
