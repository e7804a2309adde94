"""The notify channel's logs, as production writes them (JSON), hold no patient data.

GOV.UK Notify's client logs every HTTP error at WARNING with the URL and Notify's error message;
the double here answers with a message quoting the recipient, the worst case. Neither PANDA's
lines nor the client's may carry the address, the number, the name or the reminder's text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import structlog

from domain.channels.compose import compose
from domain.channels.notify import NotifyChannel
from domain.config import Settings
from domain.logs import configure_logging
from domain.rules.preferences import Language, Medium
from tests.privacy.probe import leaks, people
from tests.reminders.notify_double import API_KEY, EMAIL_TEMPLATE, SMS_TEMPLATE, notify_double, receipt
from tests.resilience.stack import Stack

EMAIL = "notify.probe@privacy-probe.example"
PHONE = "+447700900777"
NAME = "Gwenllian Probe-Ap-Rhys"
CALLBACK_TOKEN = "privacy-callback-token"


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What PANDA's logging writes, JSON at DEBUG (more than production logs)."""
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stderr", buffer)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    root.handlers = []
    configure_logging(Settings(_env_file=None, log_format="json", log_level="DEBUG"))  # type: ignore[call-arg]
    yield buffer
    root.handlers, root.level = saved
    structlog.reset_defaults()


def message(medium: Medium, recipient: str) -> object:
    return compose(
        uuid.uuid4(),
        uuid.uuid4(),
        dt.datetime(2031, 6, 4, 15, 30, tzinfo=dt.UTC),
        medium=medium,
        recipient=recipient,
        language=Language.WELSH,
        name=NAME,
        clinician="Dr Probe",
        department="Cardiology",
        postcode="CF10 1AA",
    )


async def test_refused_and_failed_sends_log_no_contact_details(stderr: io.StringIO) -> None:
    with notify_double() as double:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            notify_api_key=API_KEY,
            notify_base_url=double.url,
            notify_email_template_id=EMAIL_TEMPLATE,
            notify_sms_template_id=SMS_TEMPLATE,
            send_timeout_seconds=5,
        )
        double.script(EMAIL, 400, 429)
        double.script(PHONE, 500)
        channel = NotifyChannel(settings)
        try:
            outcomes = await channel.deliver(
                None, [message(Medium.EMAIL, EMAIL), message(Medium.EMAIL, EMAIL), message(Medium.SMS, PHONE)]
            )
        finally:
            await channel.aclose()
    unreachable = NotifyChannel(settings.model_copy(update={"notify_base_url": "http://127.0.0.1:9"}))
    outcomes += await unreachable.deliver(None, [message(Medium.SMS, PHONE)])
    await unreachable.aclose()

    assert [o.reason if o else None for o in outcomes] == ["notify 400", "notify 429", "notify 500", "notify 503"]
    text = stderr.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert any(line["event"] == "Notify API POST request failed with 400" for line in lines), lines
    for probe in (EMAIL, PHONE, "7700900777", NAME, "Gwenllian", "scripted refusal", "Atgoffa"):
        assert probe not in text, probe


@pytest.mark.slow
async def test_a_deployment_sending_through_notify_logs_no_patient_data(stack: Stack) -> None:
    """API, worker and scheduler on the notify channel: sends, refusals, retries, receipts good and bad."""
    with notify_double() as double:
        stack.settings = {
            "REMINDER_OFFSETS": "1m",
            "REMINDER_CHANNEL": "notify",
            "NOTIFY_API_KEY": API_KEY,
            "NOTIFY_BASE_URL": double.url,
            "NOTIFY_EMAIL_TEMPLATE_ID": EMAIL_TEMPLATE,
            "NOTIFY_SMS_TEMPLATE_ID": SMS_TEMPLATE,
            "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
            "REMINDER_RETRY_SECONDS": "0.5",
        }
        base_url = stack.start_api(processes=1)
        stack.start_worker("w1", concurrency=2)
        stack.start_scheduler()
        persons = people()
        choices = [{}, {"reminder_preference": "sms", "language": "cy"}, {"reminder_preference": "none"}, {}]
        double.script(persons[0].email, 429)  # retried, then sent
        double.script(persons[3].email, 400)  # failed; Notify's message quotes the address
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=65)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            ids = []
            for i, (person, choice) in enumerate(zip(persons, choices, strict=True)):
                assert (await client.post("/patients", json={**person.body(), **choice})).status_code == 201
                body = {
                    "patient": person.nhs_number,
                    "time": (start + dt.timedelta(seconds=2 * i)).isoformat(),
                    "duration": "30m",
                    "clinician": f"Dr Notify {i}",
                    "department": "Audiology",
                    "postcode": person.postcode,
                }
                response = await client.post("/appointments", json=body)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            deadline = time.monotonic() + 60
            for appointment_id in ids:
                while (await client.get(f"/appointments/{appointment_id}/reminders")).json()["items"][0][
                    "status"
                ] == "scheduled":
                    assert time.monotonic() < deadline, "reminders were not sent"
                    await asyncio.sleep(0.5)
        callback = f"{base_url}/callbacks/notify"
        assert double.send_receipts(callback, CALLBACK_TOKEN, "permanent-failure") == [204, 204]
        [first, *_] = double.accepted
        bad = receipt(first, "delivered")
        auth = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}
        assert httpx.post(callback, json={**bad, "reference": persons[0].email}, headers=auth).status_code == 404
        assert httpx.post(callback, json={**bad, "status": persons[1].name}, headers=auth).status_code == 400
        assert (
            httpx.post(callback, json=bad, headers={"Authorization": f"Bearer {persons[2].email}"}).status_code == 401
        )

    logged = stack.logs()
    assert "reminders.drained" in logged, "the worker must have logged its sends"
    assert "Notify API POST request failed with 400" in logged
    assert leaks(logged, persons) == {}, "personal data found in the logs"
