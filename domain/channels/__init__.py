"""Notification channels: how a due reminder reaches a patient (or the outbox standing in for them).

Every channel carries the reminder's id as the idempotency key of the send, so a send repeated
after a crash can be recognised downstream (the outbox by a unique column, SMTP by the
``Message-ID``, a webhook by its ``Idempotency-Key`` header).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.channels.base import Channel, Delivery, ReminderMessage, SendFailure
from domain.channels.notify import NotifyChannel
from domain.channels.outbox import OutboxChannel
from domain.channels.smtp import SmtpChannel
from domain.channels.webhook import WebhookChannel
from domain.config import Settings

CHANNELS: dict[str, type[Channel]] = {
    "outbox": OutboxChannel,
    "smtp": SmtpChannel,
    "webhook": WebhookChannel,
    "notify": NotifyChannel,
}


@asynccontextmanager
async def open_channel(name: str, settings: Settings) -> AsyncIterator[Channel]:
    """The channel called ``name``, configured from ``settings`` and closed after use."""
    channel = CHANNELS[name](settings)
    try:
        yield channel
    finally:
        await channel.aclose()


__all__ = ["CHANNELS", "Channel", "Delivery", "ReminderMessage", "SendFailure", "open_channel"]
