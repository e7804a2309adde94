"""Dispatching due reminders through the outbox, on both databases: once each, or skipped, or late."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from domain.channels.compose import local_time_text
from domain.config import Settings
from domain.models import Appointment, OutboxMessage
from domain.services.dispatch import drain, plan_drains
from tests.reminders.seed import outbox_counts, reminder_states, seed_due_reminders, status_counts

BUDGET = 30.0


async def test_a_due_reminder_is_sent_to_the_outbox_once(sessions, reminder_settings: Settings) -> None:
    seeded = await seed_due_reminders(sessions, 3, email="ann@example.org")

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"sent": 3}
    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {}

    states = await reminder_states(sessions)
    for reminder_id in seeded.reminder_ids:
        assert states[reminder_id]["status"] == "sent"
        assert states[reminder_id]["attempts"] == 1
        assert states[reminder_id]["sent_at"] is not None
    async with sessions() as session:
        messages = (await session.execute(select(OutboxMessage.__table__))).mappings().all()
    assert sorted(m["reminder_id"] for m in messages) == sorted(seeded.reminder_ids)
    assert {m["recipient"] for m in messages} == {"ann@example.org"}
    assert {m["subject"] for m in messages} == {"Appointment reminder"}
    assert all("Cardiology" in m["body"] and "SW1A 1AA" in m["body"] for m in messages)


async def test_the_message_names_the_london_wall_clock_time(sessions, reminder_settings: Settings) -> None:
    seeded = await seed_due_reminders(sessions, 1)
    await drain(sessions, "outbox", reminder_settings, BUDGET)
    async with sessions() as session:
        body = (await session.execute(select(OutboxMessage.body))).scalar_one()
        start = (
            await session.execute(select(Appointment.starts_at).where(Appointment.id == seeded.appointment_ids[0]))
        ).scalar_one()
    assert f"your appointment on {local_time_text(start)} with " in body


async def test_many_due_reminders_are_sent_in_batches(sessions, reminder_settings: Settings) -> None:
    small_batches = reminder_settings.model_copy(update={"reminder_batch_size": 7})
    await seed_due_reminders(sessions, 50)

    assert await drain(sessions, "outbox", small_batches, BUDGET) == {"sent": 50}
    assert await outbox_counts(sessions) == (50, 50)


async def test_concurrent_drains_send_every_reminder_exactly_once(sessions, reminder_settings: Settings) -> None:
    small_batches = reminder_settings.model_copy(update={"reminder_batch_size": 10})
    await seed_due_reminders(sessions, 300)

    results = await asyncio.gather(*(drain(sessions, "outbox", small_batches, BUDGET) for _ in range(4)))

    assert sum(result["sent"] for result in results) == 300
    assert await outbox_counts(sessions) == (300, 300)
    assert await status_counts(sessions) == {"sent": 300}


async def test_a_patient_without_contact_details_is_skipped(sessions, reminder_settings: Settings) -> None:
    seeded = await seed_due_reminders(sessions, 2, email=None, phone=None)

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"skipped": 2}

    states = await reminder_states(sessions)
    assert {states[r]["status"] for r in seeded.reminder_ids} == {"skipped"}
    assert {states[r]["last_error"] for r in seeded.reminder_ids} == {"contact.missing"}
    assert await outbox_counts(sessions) == (0, 0)


async def test_a_phone_number_is_enough_for_the_outbox(sessions, reminder_settings: Settings) -> None:
    await seed_due_reminders(sessions, 1, email=None, phone="+447700900123")

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"sent": 1}
    async with sessions() as session:
        assert (await session.execute(select(OutboxMessage.recipient))).scalar_one() == "+447700900123"


async def test_an_appointment_already_started_is_skipped(sessions, reminder_settings: Settings) -> None:
    seeded = await seed_due_reminders(sessions, 1, starts_in=-dt.timedelta(minutes=5))

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"skipped": 1}
    assert (await reminder_states(sessions))[seeded.reminder_ids[0]]["last_error"] == "appointment.started"


async def test_an_appointment_no_longer_active_is_skipped(sessions, reminder_settings: Settings) -> None:
    for status in ("cancelled", "attended", "missed"):
        await seed_due_reminders(sessions, 1, status=status, first_patient=hash(status) % 1000)

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"skipped": 3}
    assert {row["last_error"] for row in (await reminder_states(sessions)).values()} == {"appointment.not_active"}


async def test_a_reminder_that_fell_due_while_down_is_sent_late(sessions, reminder_settings: Settings) -> None:
    await seed_due_reminders(sessions, 1, due_ago=dt.timedelta(hours=20), starts_in=dt.timedelta(hours=2))

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"sent": 1}


async def test_reminders_not_yet_due_wait(sessions, reminder_settings: Settings) -> None:
    await seed_due_reminders(sessions, 2, due_ago=-dt.timedelta(minutes=5))

    assert await plan_drains(sessions, reminder_settings) == {}
    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {}
    assert await status_counts(sessions) == {"scheduled": 2}


async def test_the_plan_starts_enough_drains_and_no_more(sessions, reminder_settings: Settings) -> None:
    await seed_due_reminders(sessions, 5)
    one_batch = reminder_settings.model_copy(update={"reminder_batch_size": 200, "reminder_parallelism": 4})
    small_batches = reminder_settings.model_copy(update={"reminder_batch_size": 2, "reminder_parallelism": 4})

    assert await plan_drains(sessions, one_batch) == {"outbox": 1}
    assert await plan_drains(sessions, small_batches) == {"outbox": 3}


async def test_a_channel_this_version_does_not_know_is_left_alone(sessions, reminder_settings: Settings) -> None:
    await seed_due_reminders(sessions, 1, channel="pigeon")

    assert await plan_drains(sessions, reminder_settings) == {}
    assert await status_counts(sessions) == {"scheduled": 1}


async def test_the_outbox_records_medium_and_language_chosen_for_each_patient(
    sessions, reminder_settings: Settings
) -> None:
    await seed_due_reminders(sessions, 1, email="ann@example.org", phone="+447700900123")
    await seed_due_reminders(
        sessions, 1, email="bob@example.org", phone="+447700900124", reminder_preference="sms", language="cy",
        first_patient=1,
    )  # fmt: skip
    await seed_due_reminders(sessions, 1, email="cat@example.org", reminder_preference="none", first_patient=2)

    assert await drain(sessions, "outbox", reminder_settings, BUDGET) == {"sent": 2, "skipped": 1}

    async with sessions() as session:
        messages = (await session.execute(select(OutboxMessage.__table__))).mappings().all()
    recorded = {m["recipient"]: (m["medium"], m["language"], m["subject"]) for m in messages}
    assert recorded == {
        "ann@example.org": ("email", "en", "Appointment reminder"),
        "+447700900124": ("sms", "cy", "Atgoffa am apwyntiad"),
    }
    sms = next(m for m in messages if m["medium"] == "sms")
    assert sms["body"].startswith("Nodyn atgoffa am apwyntiad: ")
