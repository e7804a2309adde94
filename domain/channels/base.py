"""What every channel shares: the message it sends and how it reports a failed send."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.config import Settings
from domain.rules.preferences import Language, Medium


@dataclass(frozen=True)
class ReminderMessage:
    """One reminder ready to go: who it is for and what it says (patient data: never log it).

    ``recipient`` is the e-mail address or the phone number, as ``medium`` says; ``subject`` and
    ``body`` are PANDA's own text in the patient's ``language``; ``personalisation`` holds the
    same facts one by one (name, time, place, clinician, department) for a provider's template.
    """

    reminder_id: uuid.UUID
    appointment_id: uuid.UUID | None
    starts_at: dt.datetime
    medium: Medium
    language: Language
    recipient: str
    subject: str
    body: str
    personalisation: dict[str, str] = field(default_factory=dict)

    @property
    def email(self) -> str | None:
        """The address, when this message goes by e-mail."""
        return self.recipient if self.medium is Medium.EMAIL else None

    @property
    def phone(self) -> str | None:
        """The number, when this message goes by SMS."""
        return self.recipient if self.medium is Medium.SMS else None


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
    """Base of the channels; subclasses declare their :attr:`media` and implement :meth:`deliver`."""

    name: ClassVar[str]
    # The media this channel can carry; a reminder whose patient's medium is another is skipped.
    media: ClassVar[frozenset[Medium]] = frozenset(Medium)
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

    async def deliver(self, session: AsyncSession | None, messages: list[ReminderMessage]) -> list[Delivery]:
        """Send each message; one outcome per message, in order. Must not raise for one bad send.

        A ``transactional`` channel gets the claiming transaction's session and writes in it; the
        others get ``None``: they send with no transaction open (see ``domain.services.dispatch``).
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
