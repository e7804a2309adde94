"""Appointments: book, reschedule, change status, remove; the overlap rule held by the database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain import rules
from domain.clock import utcnow
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.inputs import AppointmentCreate, AppointmentUpdate, set_fields
from domain.models import Appointment, Clinician, Department, Patient
from domain.rules import Status
from domain.schemas import AppointmentView, Page, appointment_view
from domain.services.appointment_queries import AppointmentFilter, fetch_appointment, fetch_page
from domain.services.directory import resolve_entity_id
from domain.services.integrity import violated_constraint
from domain.services.overlap import ensure_no_overlap
from domain.services.reminders import cancel_reminders, schedule_reminders

APPOINTMENT = Appointment.__table__
RESCHEDULE_FIELDS = frozenset({"time", "duration", "clinician", "department", "postcode"})


def parse_appointment_id(raw: str) -> uuid.UUID:
    """A path id that is not a UUID names nothing: 404."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("appointment.not_found") from None


def overlap_conflict(exc: IntegrityError) -> Conflict:
    """Map the constraint that refused a write to the conflict the client sees."""
    name = violated_constraint(exc)
    if "clinician_id_overlap" in name:
        return Conflict("appointment.clinician_overlap")
    if "patient_id_overlap" in name:
        return Conflict("appointment.patient_overlap")
    if "pk_appointment" in name or "appointment.id" in name:
        return Conflict("appointment.duplicate_id")
    raise exc


class AppointmentService(SQLAlchemyAsyncRepositoryService[Appointment]):
    """Every use case about appointments."""

    class Repo(SQLAlchemyAsyncRepository[Appointment]):
        model_type = Appointment

    repository_type = Repo

    @property
    def _session(self) -> Any:
        return self.repository.session

    async def book(self, data: AppointmentCreate) -> AppointmentView:
        """Create an appointment (new or historical); its reminders are planned if it is active."""
        now = utcnow()
        patient_id = await self._patient_id(data.patient)
        appointment_id = data.id or uuid.uuid4()
        if data.id is not None and await self._exists(data.id):
            raise Conflict("appointment.duplicate_id")
        rules.check_create_status(data.status, data.time, now)
        end = data.time + dt.timedelta(minutes=data.duration)
        status = rules.stored_status_on_create(data.status, end, now)
        values = {
            "id": appointment_id,
            "patient_id": patient_id,
            "clinician_id": await resolve_entity_id(self._session, Clinician.__table__, data.clinician),
            "department_id": await resolve_entity_id(self._session, Department.__table__, data.department),
            "status": status,
            "starts_at": data.time,
            "ends_at": end,
            "duration_minutes": data.duration,
            "postcode": data.postcode,
            "created_at": now,
            "updated_at": now,
        }
        if status is Status.ACTIVE:
            await ensure_no_overlap(self._session, values)
        try:
            await self._session.execute(insert(APPOINTMENT).values(values))
        except IntegrityError as exc:
            raise overlap_conflict(exc) from None
        if status is Status.ACTIVE:
            await schedule_reminders(self._session, appointment_id, data.time)
        return appointment_view(await fetch_appointment(self._session, appointment_id), now)

    async def read(self, raw_id: str) -> AppointmentView:
        """One appointment."""
        row = await fetch_appointment(self._session, parse_appointment_id(raw_id))
        return appointment_view(row, utcnow())

    async def search(self, filters: AppointmentFilter, limit: int, offset: int) -> Page[AppointmentView]:
        """Appointments matching the filters, by start time."""
        now = utcnow()
        rows, total = await fetch_page(self._session, filters, now, limit, offset)
        return Page(items=[appointment_view(r, now) for r in rows], total=total, limit=limit, offset=offset)

    async def amend(self, raw_id: str, data: AppointmentUpdate) -> AppointmentView:
        """Reschedule and/or change status, as the status rules allow."""
        now = utcnow()
        row = await fetch_appointment(self._session, parse_appointment_id(raw_id))
        changes = set_fields(data)
        _refuse_identity_change(changes, row)
        for required in (*RESCHEDULE_FIELDS, "status"):
            if required in changes and changes[required] is None:
                raise InvalidInput([FieldError(required, "field.required")])
        current = rules.effective_status(row["status"], row["ends_at"], now)
        if current in rules.FINAL_STATUSES:
            raise Conflict("status.final", status=current.value)
        values: dict[str, Any] = {}
        if RESCHEDULE_FIELDS & changes.keys():
            rules.check_reschedulable(current)
            values = await self._reschedule_values(row, changes)
        start = values.get("starts_at", row["starts_at"])
        end = values.get("ends_at", row["ends_at"])
        status = current
        if "status" in changes:
            rules.check_status_change(current, changes["status"], start, end, now)
            status = changes["status"]
        status = rules.effective_status(status, end, now)
        if status != row["status"]:
            values["status"] = status
        if not values:
            return appointment_view(row, now)
        values["updated_at"] = now
        moved = "starts_at" in values or "clinician_id" in values
        if status is Status.ACTIVE and moved:
            await ensure_no_overlap(self._session, {**row, **values})
        try:
            await self._session.execute(update(APPOINTMENT).where(APPOINTMENT.c.id == row["id"]).values(values))
        except IntegrityError as exc:
            raise overlap_conflict(exc) from None
        if "starts_at" in values or status is not Status.ACTIVE:
            await cancel_reminders(self._session, [row["id"]])
        if "starts_at" in values and status is Status.ACTIVE:
            await schedule_reminders(self._session, row["id"], start)
        return appointment_view(await fetch_appointment(self._session, row["id"]), now)

    async def remove(self, raw_id: str) -> None:
        """Delete a record entered by mistake; its unsent reminders are cancelled, not lost."""
        appointment_id = parse_appointment_id(raw_id)
        if not await self._exists(appointment_id):
            raise NotFound("appointment.not_found")
        await cancel_reminders(self._session, [appointment_id])
        await self._session.execute(delete(APPOINTMENT).where(APPOINTMENT.c.id == appointment_id))

    async def _reschedule_values(self, row: Any, changes: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        start = changes.get("time", row["starts_at"])
        minutes = changes.get("duration", row["duration_minutes"])
        if "time" in changes or "duration" in changes:
            values.update(starts_at=start, duration_minutes=minutes, ends_at=start + dt.timedelta(minutes=minutes))
        if "clinician" in changes:
            values["clinician_id"] = await resolve_entity_id(self._session, Clinician.__table__, changes["clinician"])
        if "department" in changes:
            values["department_id"] = await resolve_entity_id(
                self._session, Department.__table__, changes["department"]
            )
        if "postcode" in changes:
            values["postcode"] = changes["postcode"]
        return values

    async def _patient_id(self, nhs_number: str) -> int:
        stmt = select(Patient.id).where(Patient.nhs_number == nhs_number)
        patient_id = (await self._session.execute(stmt)).scalar_one_or_none()
        if patient_id is None:
            raise InvalidInput([FieldError("patient", "patient.unknown")])
        return int(patient_id)

    async def _exists(self, appointment_id: uuid.UUID) -> bool:
        stmt = select(APPOINTMENT.c.id).where(APPOINTMENT.c.id == appointment_id)
        return (await self._session.execute(stmt)).first() is not None


def _refuse_identity_change(changes: dict[str, Any], row: Any) -> None:
    """``id`` and ``patient`` identify the record; sending them unchanged is harmless."""
    errors = []
    if "id" in changes and str(changes.pop("id")).lower() != str(row["id"]):
        errors.append(FieldError("id", "id.immutable"))
    if "patient" in changes:
        sent = changes.pop("patient")
        try:
            same = rules.normalise_nhs_number(sent) == row["nhs_number"]
        except ValueError:
            same = False
        if not same:
            errors.append(FieldError("patient", "patient.immutable"))
    if errors:
        raise InvalidInput(errors)
