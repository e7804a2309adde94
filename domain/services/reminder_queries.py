"""Reading reminders and the outbox: what was planned for an appointment, and what was sent."""

from __future__ import annotations

import uuid
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import func, select

from domain.audit.events import AuditTrail, concerns
from domain.errors import FieldError, InvalidInput, NotFound
from domain.models import Appointment, OutboxMessage, Patient, Reminder, table
from domain.rules.ids import read_uuid
from domain.schemas import OutboxMessageView, Page, ReminderView, outbox_message_view, reminder_view
from domain.services.appointments import parse_appointment_id

REMINDER = table(Reminder)
OUTBOX = table(OutboxMessage)
APPOINTMENT = table(Appointment)
PATIENT = table(Patient)


def parse_appointment_filter(raw: str | None) -> uuid.UUID | None:
    """The ``appointment`` filter of the outbox: a UUID, or a 400 naming the field."""
    if raw is None:
        return None
    try:
        return read_uuid(raw)
    except ValueError:
        raise InvalidInput([FieldError("appointment", "id.format")]) from None


class ReminderService(SQLAlchemyAsyncRepositoryService[Reminder]):
    """Reminder history of appointments, and the outbox channel's messages."""

    class Repo(SQLAlchemyAsyncRepository[Reminder]):
        model_type = Reminder

    repository_type = Repo

    @property
    def _session(self) -> Any:
        return self.repository.session

    async def for_appointment(
        self, raw_id: str, limit: int, offset: int, audit: AuditTrail | None = None
    ) -> Page[ReminderView]:
        """The reminders of one appointment, earliest due first; an unknown appointment is 404."""
        appointment_id = parse_appointment_id(raw_id)
        exists = (
            select(APPOINTMENT.c.id, PATIENT.c.nhs_number)
            .outerjoin(PATIENT, PATIENT.c.id == APPOINTMENT.c.patient_id)
            .where(APPOINTMENT.c.id == appointment_id)
        )
        found = (await self._session.execute(exists)).first()
        if found is None:
            raise NotFound("appointment.not_found")
        concerns(audit, patient=found.nhs_number)
        theirs = REMINDER.c.appointment_id == appointment_id
        stmt = select(REMINDER).where(theirs).order_by(REMINDER.c.due_at, REMINDER.c.id).limit(limit).offset(offset)
        rows = (await self._session.execute(stmt)).mappings().all()
        total = (await self._session.execute(select(func.count()).select_from(REMINDER).where(theirs))).scalar_one()
        return Page(items=[reminder_view(r) for r in rows], total=total, limit=limit, offset=offset)

    async def outbox(self, appointment_id: uuid.UUID | None, limit: int, offset: int) -> Page[OutboxMessageView]:
        """Messages the outbox channel recorded, newest first, optionally of one appointment."""
        conditions = [OUTBOX.c.appointment_id == appointment_id] if appointment_id is not None else []
        stmt = (
            select(OUTBOX)
            .where(*conditions)
            .order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._session.execute(stmt)).mappings().all()
        count = select(func.count()).select_from(OUTBOX).where(*conditions)
        total = (await self._session.execute(count)).scalar_one()
        return Page(items=[outbox_message_view(r) for r in rows], total=total, limit=limit, offset=offset)
