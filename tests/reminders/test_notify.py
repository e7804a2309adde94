"""The ``notify`` channel against a GOV.UK Notify double on loopback: medium, language, keys, errors.

The double checks what Notify checks (the client's JWT, the JSON shape, the template, the
recipient's format), so a send it accepts is one the real service would accept.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
from sqlalchemy import update

from domain.channels.notify import CLIENT_LOGGER
from domain.clock import utcnow
from domain.config import Settings
from domain.models import Reminder
from domain.services.dispatch import drain
from tests.reminders.notify_double import EMAIL_TEMPLATE, SMS_TEMPLATE, NotifyDouble
from tests.reminders.seed import reminder_states, seed_due_reminders
from tests.reminders.test_channels import drain_until_settled

BUDGET = 30.0
MOBILE = "+447700900123"


async def test_an_email_patient_gets_one_email_keyed_and_personalised(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    seeded = await seed_due_reminders(
        sessions, 1, channel="notify", email="ann@example.org", phone=MOBILE, name="Ann Ødegård"
    )

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 1}
    assert await drain(sessions, "notify", notify_settings, BUDGET) == {}

    [sent] = notify.accepted
    assert (sent.type, sent.to, sent.template_id) == ("email", "ann@example.org", EMAIL_TEMPLATE)
    assert sent.reference == str(seeded.reminder_ids[0])
    fields = sent.personalisation
    assert set(fields) == {"subject", "body", "name", "time", "place", "clinician", "department"}
    assert fields["subject"] == "Appointment reminder"
    assert fields["body"].startswith("Dear Ann Ødegård, this is a reminder of your appointment on ")
    assert (fields["name"], fields["place"], fields["department"]) == ("Ann Ødegård", "SW1A 1AA", "Cardiology")
    assert fields["clinician"].startswith("Dr Seed ")
    state = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (state["status"], state["attempts"], state["medium"], state["language"]) == ("sent", 1, "email", "en")
    assert state["next_attempt_at"] is None


async def test_an_sms_patient_gets_a_short_text_on_the_sms_template(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await seed_due_reminders(
        sessions, 1, channel="notify", email="ann@example.org", phone=MOBILE, reminder_preference="sms"
    )

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 1}

    [sent] = notify.accepted
    assert (sent.type, sent.to, sent.template_id) == ("sms", MOBILE, SMS_TEMPLATE)
    assert sent.personalisation["body"].startswith("Appointment reminder: ")
    assert len(sent.personalisation["body"]) <= 160


async def test_a_welsh_patient_gets_welsh_words(sessions, notify_settings: Settings, notify: NotifyDouble) -> None:
    seeded = await seed_due_reminders(sessions, 1, channel="notify", email="siân@example.org", language="cy")

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 1}

    [sent] = notify.accepted
    assert sent.personalisation["subject"] == "Atgoffa am apwyntiad"
    assert sent.personalisation["body"].startswith("Annwyl Seeded Patient, dyma nodyn atgoffa am eich apwyntiad ar ")
    assert " am " in sent.personalisation["time"]  # "Dydd … am 16:30"
    assert (await reminder_states(sessions))[seeded.reminder_ids[0]]["language"] == "cy"


async def test_an_opted_out_patient_is_skipped_without_a_request(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    seeded = await seed_due_reminders(
        sessions, 1, channel="notify", email="ann@example.org", phone=MOBILE, reminder_preference="none"
    )

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"skipped": 1}

    assert notify.accepted == [] and notify.refused == []
    state = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (state["status"], state["last_error"]) == ("skipped", "patient.opted_out")


async def test_no_preference_and_only_a_landline_is_skipped(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await seed_due_reminders(sessions, 1, channel="notify", email=None, phone="+442079460000")

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"skipped": 1}
    assert notify.accepted == []


async def test_no_preference_and_no_email_goes_by_sms(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await seed_due_reminders(sessions, 1, channel="notify", email=None, phone=MOBILE)

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 1}
    assert [n.type for n in notify.accepted] == ["sms"]


async def test_a_rate_limit_is_retried_with_the_same_reference(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    seeded = await seed_due_reminders(sessions, 1, channel="notify", email="ann@example.org")
    notify.script("ann@example.org", 429, 500)

    await drain_until_settled(sessions, "notify", notify_settings)

    assert notify.refused == [(429, "RateLimitError"), (500, "Exception")]
    assert [n.reference for n in notify.accepted] == [str(seeded.reminder_ids[0])]
    state = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (state["status"], state["attempts"]) == ("sent", 3)


@pytest.mark.parametrize("status", [400, 403])
async def test_a_refusal_fails_the_reminder_at_once(
    sessions, notify_settings: Settings, notify: NotifyDouble, status: int
) -> None:
    seeded = await seed_due_reminders(sessions, 1, channel="notify", email="ann@example.org")
    notify.script("ann@example.org", status)

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"failed": 1}

    state = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (state["status"], state["attempts"], state["last_error"]) == ("failed", 1, f"notify {status}")
    assert (state["medium"], state["language"], state["next_attempt_at"]) == ("email", "en", None)
    assert notify.accepted == []


async def test_a_key_with_the_wrong_secret_is_refused_by_the_double(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    wrong = notify_settings.notify_api_key[:-36] + str(uuid.uuid4())  # type: ignore[index]
    await seed_due_reminders(sessions, 1, channel="notify", email="ann@example.org")

    assert await drain(sessions, "notify", notify_settings.model_copy(update={"notify_api_key": wrong}), BUDGET) == {
        "failed": 1
    }
    assert notify.refused == [(403, "AuthError")]


async def test_missing_configuration_fails_without_a_request(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    await seed_due_reminders(sessions, 1, channel="notify", email="ann@example.org")
    unconfigured = notify_settings.model_copy(update={"notify_email_template_id": None})

    assert await drain(sessions, "notify", unconfigured, BUDGET) == {"failed": 1}
    assert notify.accepted == [] and notify.refused == []


async def test_a_dead_drains_lease_expires_and_the_reminder_goes_again(
    sessions, notify_settings: Settings, notify: NotifyDouble
) -> None:
    """A drain that claimed (leased) and died: nobody sends until the lease ends, then once, same key."""
    seeded = await seed_due_reminders(sessions, 1, channel="notify", email="ann@example.org")
    table = Reminder.__table__
    async with sessions() as session, session.begin():
        await session.execute(update(table).values(next_attempt_at=utcnow() + dt.timedelta(minutes=5)))
    assert await drain(sessions, "notify", notify_settings, BUDGET) == {}
    async with sessions() as session, session.begin():
        await session.execute(update(table).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))

    assert await drain(sessions, "notify", notify_settings, BUDGET) == {"sent": 1}
    assert [n.reference for n in notify.accepted] == [str(seeded.reminder_ids[0])]


async def test_the_clients_error_lines_keep_no_notify_text(
    sessions, notify_settings: Settings, notify: NotifyDouble, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_due_reminders(sessions, 1, channel="notify", email="leaky@example.org")
    notify.script("leaky@example.org", 400)

    with caplog.at_level(logging.DEBUG, logger=CLIENT_LOGGER):
        await drain(sessions, "notify", notify_settings, BUDGET)

    lines = [r.getMessage() for r in caplog.records if r.name == CLIENT_LOGGER]
    assert "Notify API POST request failed with 400" in lines
    assert not any("scripted" in line or "leaky" in line or "/v2/" in line for line in lines)
