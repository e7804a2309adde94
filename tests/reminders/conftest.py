"""Fixtures for reminder tests: settings tuned for quick retries, and real servers for the channels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.config import Settings
from tests.reminders.notify_double import NotifyDouble, notify_double, sending_through
from tests.reminders.servers import SmtpRecorder, WebhookRecorder, smtp_server, webhook_server

CALLBACK_TOKEN = "callback-token-for-tests"


@pytest.fixture
def reminder_settings(settings: Settings) -> Settings:
    """The backend's settings with a short back-off, so retries can be watched in a test."""
    return settings.model_copy(
        update={"reminder_retry_seconds": 0.2, "reminder_retry_max_seconds": 1.0, "reminder_max_attempts": 3}
    )


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpRecorder, int]]:
    """A real SMTP server (aiosmtpd) on loopback."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[tuple[WebhookRecorder, str]]:
    """A real HTTP server on loopback that records webhook calls."""
    with webhook_server() as server:
        yield server


@pytest.fixture
def notify() -> Iterator[NotifyDouble]:
    """A GOV.UK Notify test double on loopback (checks the JWT, the body, the recipient)."""
    with notify_double() as double:
        yield double


@pytest.fixture
def notify_settings(reminder_settings: Settings, notify: NotifyDouble) -> Settings:
    """Settings sending through the Notify double, with its templates and a callback token."""
    return sending_through(reminder_settings, notify, CALLBACK_TOKEN, send_timeout_seconds=5.0)
