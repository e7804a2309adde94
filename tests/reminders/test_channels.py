"""The smtp and webhook channels against real servers on loopback: keys, retries, back-off, failure."""

from __future__ import annotations

import asyncio

from domain.config import Settings
from domain.services.dispatch import drain
from tests.reminders.seed import reminder_states, seed_due_reminders
from tests.reminders.servers import SmtpRecorder, WebhookRecorder

BUDGET = 30.0


def smtp_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_sender": "panda@nhs.test"})


def webhook_settings(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"webhook_url": url, "webhook_token": "s3cret"})


async def drain_until_settled(sessions, channel: str, settings: Settings) -> None:
    """Drain repeatedly, waiting out each back-off, until no reminder is still scheduled."""
    for _ in range(50):
        await drain(sessions, channel, settings, BUDGET)
        if all(row["status"] != "scheduled" for row in (await reminder_states(sessions)).values()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("reminders still scheduled")


async def test_smtp_sends_a_real_email_keyed_by_the_reminder_id(
    sessions, reminder_settings: Settings, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    seeded = await seed_due_reminders(sessions, 2, channel="smtp", email="ann@example.org")

    assert await drain(sessions, "smtp", smtp_settings(reminder_settings, port), BUDGET) == {"sent": 2}

    assert len(recorder.accepted) == 2
    ids = {str(r) for r in seeded.reminder_ids}
    assert {m["X-Reminder-Id"] for m in recorder.accepted} == ids
    assert {m["Message-ID"] for m in recorder.accepted} == {f"<{r}@reminders.panda>" for r in ids}
    assert {m["X-Envelope-To"] for m in recorder.accepted} == {"ann@example.org"}
    assert {m["From"] for m in recorder.accepted} == {"panda@nhs.test"}
    assert all(m["Subject"] == "Appointment reminder" for m in recorder.accepted)


async def test_smtp_skips_a_patient_with_only_a_phone(
    sessions, reminder_settings: Settings, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    await seed_due_reminders(sessions, 1, channel="smtp", email=None, phone="+447700900123")

    assert await drain(sessions, "smtp", smtp_settings(reminder_settings, port), BUDGET) == {"skipped": 1}
    assert recorder.attempts == 0


async def test_smtp_retries_a_temporary_refusal_then_sends(
    sessions, reminder_settings: Settings, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    recorder.replies = ["451 Try again later"]
    seeded = await seed_due_reminders(sessions, 1, channel="smtp")
    settings = smtp_settings(reminder_settings, port)

    assert await drain(sessions, "smtp", settings, BUDGET) == {"retrying": 1}
    held_back = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (held_back["status"], held_back["attempts"]) == ("scheduled", 1)
    assert held_back["last_error"] == "SMTPDataError 451"
    assert held_back["next_attempt_at"] is not None
    assert await drain(sessions, "smtp", settings, BUDGET) == {}, "the back-off holds the retry"

    await drain_until_settled(sessions, "smtp", settings)

    sent = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
    assert len(recorder.accepted) == 1


async def test_smtp_gives_up_after_the_last_attempt(
    sessions, reminder_settings: Settings, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    recorder.replies = ["451 Try again later"] * 10
    seeded = await seed_due_reminders(sessions, 1, channel="smtp")

    await drain_until_settled(sessions, "smtp", smtp_settings(reminder_settings, port))

    failed = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", 3, None)
    assert recorder.attempts == 3


async def test_smtp_does_not_retry_a_permanent_refusal(
    sessions, reminder_settings: Settings, smtp: tuple[SmtpRecorder, int]
) -> None:
    recorder, port = smtp
    recorder.replies = ["550 No such user here"]
    seeded = await seed_due_reminders(sessions, 1, channel="smtp")

    assert await drain(sessions, "smtp", smtp_settings(reminder_settings, port), BUDGET) == {"failed": 1}
    failed = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (failed["status"], failed["attempts"], failed["last_error"]) == ("failed", 1, "SMTPDataError 550")


async def test_smtp_server_down_is_retried_then_failed(sessions, reminder_settings: Settings) -> None:
    from tests.reminders.servers import free_port

    seeded = await seed_due_reminders(sessions, 1, channel="smtp")

    await drain_until_settled(sessions, "smtp", smtp_settings(reminder_settings, free_port()))

    failed = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    assert failed["last_error"] == "ConnectionRefusedError"


async def test_webhook_posts_json_with_the_idempotency_key(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    seeded = await seed_due_reminders(sessions, 1, channel="webhook", email=None, phone="+447700900123")

    assert await drain(sessions, "webhook", webhook_settings(reminder_settings, url), BUDGET) == {"sent": 1}

    [(headers, body)] = recorder.requests
    key = str(seeded.reminder_ids[0])
    assert headers["idempotency-key"] == key
    assert headers["x-reminder-id"] == key
    assert headers["authorization"] == "Bearer s3cret"
    assert body["reference"] == key
    assert body["appointment_id"] == str(seeded.appointment_ids[0])
    assert body["phone_number"] == "+447700900123"
    assert body["email_address"] is None
    assert body["appointment_start"].endswith("+00:00")
    assert body["subject"] == "Appointment reminder"
    state = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (state["status"], state["attempts"]) == ("sent", 1)


async def test_a_failing_webhook_is_retried_with_back_off_then_failed(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    recorder.statuses = [500, 503, 502, 500]
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")
    settings = webhook_settings(reminder_settings, url)

    await drain_until_settled(sessions, "webhook", settings)

    failed = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", 3, None)
    assert failed["last_error"] == "HTTP 502"
    keys = [headers["idempotency-key"] for headers, _body in recorder.requests]
    assert keys == [str(seeded.reminder_ids[0])] * 3, "every retry carries the same key"


async def test_a_webhook_that_recovers_gets_the_reminder_once(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    recorder.statuses = [503]
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")

    await drain_until_settled(sessions, "webhook", webhook_settings(reminder_settings, url))

    state = (await reminder_states(sessions))[seeded.reminder_ids[0]]
    assert (state["status"], state["attempts"], state["last_error"]) == ("sent", 2, None)
    assert len(recorder.requests) == 2


async def test_a_webhook_rejecting_the_request_is_not_retried(
    sessions, reminder_settings: Settings, webhook: tuple[WebhookRecorder, str]
) -> None:
    recorder, url = webhook
    recorder.statuses = [400]
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")

    assert await drain(sessions, "webhook", webhook_settings(reminder_settings, url), BUDGET) == {"failed": 1}
    assert (await reminder_states(sessions))[seeded.reminder_ids[0]]["last_error"] == "HTTP 400"


async def test_a_webhook_without_a_url_fails_the_reminder(sessions, reminder_settings: Settings) -> None:
    seeded = await seed_due_reminders(sessions, 1, channel="webhook")

    assert await drain(sessions, "webhook", reminder_settings, BUDGET) == {"failed": 1}
    assert (await reminder_states(sessions))[seeded.reminder_ids[0]]["last_error"] == "webhook_url.missing"
