"""The ``outbox`` channel: the message is recorded in the database, readable through the API.

It stands in for delivery to the patient's e-mail or phone (the medium and language chosen for
them are recorded with it), so a patient who cannot be reached, or opted out, is skipped.
The outbox row is written in the same transaction that marks the reminder sent, and
``reminder_id`` is unique: a reminder lands in the outbox exactly once. Each row records the
patient its appointment belongs to at that moment, so erasure finds every message quoting
their contact details even after the appointment itself was deleted.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.channels.base import Channel, Delivery, ReminderMessage
from domain.clock import utcnow
from domain.dialects import insert_ignoring_conflicts
from domain.models import Appointment, OutboxMessage, table

OUTBOX = table(OutboxMessage)
APPOINTMENT = table(Appointment)
# The appointment's patient, read inside the insert: no extra round trip, same transaction.
_PATIENT_OF_APPOINTMENT = (
    select(APPOINTMENT.c.patient_id).where(APPOINTMENT.c.id == bindparam("of_appointment")).scalar_subquery()
)


def insert_ignoring_duplicates(dialect_name: str) -> Any:
    """``INSERT … ON CONFLICT (reminder_id) DO NOTHING`` in the session's dialect, naming the patient.

    Each parameter row carries ``of_appointment`` (the appointment id) for the patient lookup.
    """
    return insert_ignoring_conflicts(OUTBOX, dialect_name, [OUTBOX.c.reminder_id]).values(
        patient_id=_PATIENT_OF_APPOINTMENT
    )


class OutboxChannel(Channel):
    """Writes messages to ``outbox_message``; as reliable as the database transaction."""

    name = "outbox"
    transactional = True

    async def deliver(self, session: AsyncSession | None, messages: list[ReminderMessage]) -> list[Delivery]:
        """One multi-row insert for the whole batch."""
        if not messages:
            return []
        assert session is not None, "the outbox writes in the claiming transaction"
        now = utcnow()
        rows = [
            {
                "id": uuid.uuid4(),
                "reminder_id": message.reminder_id,
                "appointment_id": message.appointment_id,
                "of_appointment": message.appointment_id,
                "recipient": message.recipient,
                "medium": message.medium.value,
                "language": message.language.value,
                "subject": message.subject,
                "body": message.body,
                "created_at": now,
            }
            for message in messages
        ]
        await session.execute(insert_ignoring_duplicates(session.get_bind().dialect.name), rows)
        return [None] * len(messages)
