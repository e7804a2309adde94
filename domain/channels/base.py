"""What every channel shares: the message it sends and how it reports a failed send."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings


@dataclass(frozen=True)
class ReminderMessage:
    """One reminder ready to go: who it is for and what it says (patient data: never log it)."""

    reminder_id: uuid.UUID
    appointment_id: uuid.UUID | None
    starts_at: dt.datetime
    email: str | None
    phone: str | None
    subject: str
    body: str


@dataclass(frozen=True)
class SendFailure:
    """A send that did not succeed; ``reason`` is an error class or status, never message text.

    ``permanent`` failures (the address is refused, the request is rejected) are not retried.
    """

    reason: str
    permanent: bool = False


# ``None`` is a successful send.
Delivery = SendFailure | None


class Channel:
    """Base of the channels; subclasses implement :meth:`recipient` and :meth:`deliver`."""

    name: ClassVar[str]
    # Reminders claimed per database transaction. A channel writing in that transaction (the
    # outbox) takes many; one sending over the network takes one, so a crash repeats at most one.
    transactional: ClassVar[bool] = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def claim_size(cls, settings: Settings) -> int:
        """How many reminders one claim takes for this channel."""
        return settings.reminder_batch_size if cls.transactional else 1

    @property
    def batch_size(self) -> int:
        """How many reminders one claim takes for this channel, as configured."""
        return self.claim_size(self.settings)

    def recipient(self, email: str | None, phone: str | None) -> str | None:
        """Where this channel would deliver; ``None`` means the patient cannot be reached by it."""
        raise NotImplementedError

    async def deliver(self, session: AsyncSession | None, messages: list[ReminderMessage]) -> list[Delivery]:
        """Send each message; one outcome per message, in order. Must not raise for one bad send.

        ``session`` is the claiming transaction for a ``transactional`` channel, ``None`` otherwise.
        """
        raise NotImplementedError

    async def abandon(self) -> None:
        """A send overran its deadline and was cancelled: drop any connection it may have left half-used."""
        return None

    async def aclose(self) -> None:
        """Release connections held between sends."""
        return None


def failure_reason(exc: BaseException) -> str:
    """An exception's class name only: its text may quote an address or a response body."""
    return type(exc).__name__[:200]
