"""The notify channel's logs, as production writes them (JSON), hold no patient data.

GOV.UK Notify's client logs every HTTP error at WARNING with the URL and Notify's error message;
the double here answers with a message quoting the recipient, the worst case. Neither PANDA's
lines nor the client's may carry the address, the number, the name or the reminder's text.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
import structlog

from domain.channels.compose import compose
from domain.channels.notify import NotifyChannel
from domain.config import Settings
from domain.logs import configure_logging
from domain.rules.preferences import Language, Medium
from tests.reminders.notify_double import API_KEY, EMAIL_TEMPLATE, SMS_TEMPLATE, notify_double

EMAIL = "notify.probe@privacy-probe.example"
PHONE = "+447700900777"
NAME = "Gwenllian Probe-Ap-Rhys"


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
