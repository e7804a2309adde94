"""The ``webhook`` channel: POST the reminder as JSON to ``WEBHOOK_URL``.

That is how an SMS gateway or a GOV.UK Notify-style service takes it: the receiver picks the
e-mail address or phone number, and de-duplicates by the ``Idempotency-Key`` header (the
reminder id, also sent as ``reference``).
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from domain.channels.base import Channel, Delivery, ReminderMessage, SendFailure, failure_reason
from domain.config import Settings
from domain.rules import to_utc_iso

# Worth trying again: timeouts, throttling and server-side errors.
TRANSIENT_STATUSES = frozenset({408, 425, 429})


def payload(message: ReminderMessage) -> dict[str, Any]:
    """The JSON body of one reminder."""
    return {
        "reference": str(message.reminder_id),
        "reminder_id": str(message.reminder_id),
        "appointment_id": str(message.appointment_id) if message.appointment_id else None,
        "appointment_start": to_utc_iso(message.starts_at),
        "email_address": message.email,
        "phone_number": message.phone,
        "medium": message.medium.value,
        "language": message.language.value,
        "subject": message.subject,
        "body": message.body,
    }


def classify(status_code: int) -> Delivery:
    """2xx is sent; 408/425/429 and 5xx may pass later; any other answer will not."""
    if 200 <= status_code < 300:
        return None
    transient = status_code in TRANSIENT_STATUSES or status_code >= 500
    return SendFailure(f"HTTP {status_code}", permanent=not transient)


class WebhookChannel(Channel):
    """One HTTP client (and connection pool) per drain."""

    name = "webhook"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        headers = {"Authorization": f"Bearer {settings.webhook_token}"} if settings.webhook_token else {}
        self._client = httpx.AsyncClient(timeout=settings.send_timeout_seconds, headers=headers)

    async def deliver(self, session: AsyncSession | None, messages: list[ReminderMessage]) -> list[Delivery]:
        """POST each message; network errors are transient, a missing URL is permanent."""
        return [await self._post(message) for message in messages]

    async def _post(self, message: ReminderMessage) -> Delivery:
        if not self.settings.webhook_url:
            return SendFailure("webhook_url.missing", permanent=True)
        key = str(message.reminder_id)
        try:
            # Streamed and never read: the status line and headers are the answer, so a receiver
            # cannot make the worker hold a large or endless response body.
            async with self._client.stream(
                "POST",
                self.settings.webhook_url,
                json=payload(message),
                headers={"Idempotency-Key": key, "X-Reminder-Id": key},
            ) as response:
                return classify(response.status_code)
        except httpx.HTTPError as exc:
            return SendFailure(failure_reason(exc))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
