"""Reminders are rows, not delayed tasks: losing the broker loses none of them."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.base import UUIDAuditBase, UUIDBase
from advanced_alchemy.types import GUID, BigIntIdentity, DateTimeUTC
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class Reminder(UUIDAuditBase):
    """One planned message about one appointment; its id is the send's idempotency key."""

    __tablename__ = "reminder"
    __table_args__ = (
        Index("ix_reminder_due", "status", "due_at"),
        Index("ix_reminder_appointment", "appointment_id"),
    )

    # Kept (as history) when a mistaken appointment is deleted.
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(GUID(), ForeignKey("appointment.id", ondelete="SET NULL"))
    due_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # A reason code or error class, never message text: error texts may quote the recipient.
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    # Set after a failed send: the reminder is not claimed again before then (back-off).
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # How it went (SPEC §11): chosen at dispatch from the patient's details of that moment.
    medium: Mapped[str | None] = mapped_column(String(8), default=None)
    language: Mapped[str | None] = mapped_column(String(2), default=None)
    # The provider's delivery receipt (GOV.UK Notify: delivered, permanent-failure, …).
    delivery: Mapped[str | None] = mapped_column(String(32), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class OutboxMessage(UUIDBase):
    """A message the ``outbox`` channel recorded instead of delivering it.

    It quotes the patient's contact details, so it belongs to the patient: ``patient_id`` is
    recorded with the message and erasing the patient deletes it (``ON DELETE CASCADE``),
    whatever became of the appointment (``appointment_id`` outlives a deleted appointment).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_appointment", "appointment_id"),)

    reminder_id: Mapped[uuid.UUID] = mapped_column(GUID(), unique=True)
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    # Null only for messages recorded before migration 0006 whose appointment was already gone.
    patient_id: Mapped[int | None] = mapped_column(
        BigIntIdentity, ForeignKey("patient.id", ondelete="CASCADE"), index=True, default=None
    )
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    medium: Mapped[str | None] = mapped_column(String(8), default=None)
    language: Mapped[str | None] = mapped_column(String(2), default=None)
