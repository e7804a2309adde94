"""The ``notify`` channel: e-mail and SMS through GOV.UK Notify, with its official Python client.

Each reminder is one ``send_email_notification`` or ``send_sms_notification`` call on the
template configured for its medium (``NOTIFY_EMAIL_TEMPLATE_ID``, ``NOTIFY_SMS_TEMPLATE_ID``,
templates made of ``((subject))`` and ``((body))``), with PANDA's own text in the patient's
language as ``subject`` and ``body`` plus ``name``, ``time``, ``place``, ``clinician`` and
``department``, and the reminder id as ``reference`` (the idempotency key; delivery receipts name
it). Notify's answers: 429 and 5xx (and a lost connection, which the client reports as 503) may
pass later, so they are retried; 400 (a bad number or address, a missing personalisation) and
403 (a bad or revoked key) will not, so they are ``failed``.

The client is synchronous (``requests``) and not thread-safe: every call runs in a worker thread
(``asyncio.to_thread``), one at a time, so the worker's event loop keeps serving; the dispatch
calls :meth:`NotifyChannel.deliver` with no database transaction open and cuts each send off at
``SEND_TIMEOUT_SECONDS`` (``deliver_by_deadline``); :meth:`NotifyChannel.abandon` then drops the
client, since the abandoned thread may still be using it, and the next send makes a fresh one.
On an HTTP error the client logs the URL and Notify's error message, which can quote what was
sent: :class:`WithoutNotifyText` keeps only the method and status of that line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy.ext.asyncio import AsyncSession

from domain.channels.base import Channel, Delivery, ReminderMessage, SendFailure, failure_reason
from domain.config import Settings
from domain.rules.preferences import Medium

CLIENT_LOGGER = "notifications_python_client.base"


def classify(status_code: int) -> Delivery:
    """Notify's documented errors: 429 and 5xx are worth retrying; 400, 403 and the rest are not."""
    transient = status_code == 429 or status_code >= 500
    return SendFailure(f"notify {status_code}", permanent=not transient)


def personalisation(message: ReminderMessage) -> dict[str, str]:
    """What the template's placeholders are filled with."""
    return {"subject": message.subject, "body": message.body, **message.personalisation}


class WithoutNotifyText(logging.Filter):
    """The client's own log lines keep their method and status, never a URL's query or Notify's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        args = record.args if isinstance(record.args, tuple) else ()
        if record.levelno >= logging.WARNING and len(args) >= 3:
            record.msg, record.args = "Notify API %s request failed with %s", (args[0], args[2])
        elif record.levelno < logging.WARNING:
            record.msg, record.args = "Notify API request", ()
        return True


logging.getLogger(CLIENT_LOGGER).addFilter(WithoutNotifyText())


class NotifyNotConfigured(Exception):
    """``NOTIFY_API_KEY`` or the template of a medium is missing: no send can succeed."""


class NotifyChannel(Channel):
    """Sends through ``NOTIFY_BASE_URL`` with ``NOTIFY_API_KEY``; one client per drain."""

    name = "notify"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: NotificationsAPIClient | None = None

    def _templates(self) -> dict[Medium, str | None]:
        return {Medium.EMAIL: self.settings.notify_email_template_id, Medium.SMS: self.settings.notify_sms_template_id}

    def _client_or_new(self) -> NotificationsAPIClient:
        if self._client is None:
            if not self.settings.notify_api_key:
                raise NotifyNotConfigured("NOTIFY_API_KEY")
            self._client = NotificationsAPIClient(  # type: ignore[no-untyped-call]  # the client is untyped
                self.settings.notify_api_key,
                base_url=self.settings.notify_base_url,
                timeout=self.settings.send_timeout_seconds,
            )
        return self._client

    async def deliver(self, session: AsyncSession | None, messages: list[ReminderMessage]) -> list[Delivery]:
        """Send each message in a thread, one at a time, each within the send deadline."""
        return [await self._send(message) for message in messages]

    async def _send(self, message: ReminderMessage) -> Delivery:
        template = self._templates()[message.medium]
        try:
            if not template:
                raise NotifyNotConfigured(f"NOTIFY_{message.medium.value.upper()}_TEMPLATE_ID")
            client = self._client_or_new()
        except (NotifyNotConfigured, AssertionError) as exc:  # the client asserts a well-formed key
            return SendFailure(failure_reason(exc), permanent=True)
        try:
            await asyncio.to_thread(_call(client, message, template))
        except APIError as exc:
            return classify(exc.status_code)
        except Exception as exc:  # noqa: BLE001  # one bad send must not stop the batch; recorded by type
            return SendFailure(failure_reason(exc))
        return None

    async def abandon(self) -> None:
        """A send overran its deadline: leave its client to the thread still using it (not thread-safe)."""
        self._client = None

    async def aclose(self) -> None:
        """Close the client's connection pool."""
        client, self._client = self._client, None
        if client is not None:
            client.request_session.close()


def _call(client: NotificationsAPIClient, message: ReminderMessage, template: str) -> Any:
    """The blocking call for one message, ready to run in a thread."""
    fields = personalisation(message)
    reference = str(message.reminder_id)
    if message.medium is Medium.SMS:
        return lambda: client.send_sms_notification(message.recipient, template, fields, reference)  # type: ignore[no-untyped-call]
    return lambda: client.send_email_notification(message.recipient, template, fields, reference)  # type: ignore[no-untyped-call]
