"""Appointments: book, reschedule, change status, remove; the overlap rule held by the database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import rules
from domain.audit.events import AuditTrail, changed_fields, concerns, record
from domain.clock import utcnow
from domain.dialects import takes_arrays
from domain.errors import Conflict, DomainError, FieldError, InvalidInput, NotFound
from domain.inputs import AppointmentCreate, AppointmentUpdate, requested_changes
from domain.models import Appointment, Clinician, Department, table
from domain.random_ids import random_uuid
from domain.rules import Status
from domain.rules.booking import BookingPlan, plan_booking, rescheduled
from domain.rules.ids import parse_uuid
from domain.rules.reminders import ReminderPolicy
from domain.schemas import AppointmentView, Page, appointment_view
from domain.services.appointment_queries import APPOINTMENT_BY_ID, AppointmentFilter, fetch_appointment, fetch_page
from domain.services.booking import BOOKING_LOOKUP, BOOKING_LOOKUP_LOCKING, appointment_row, enforce_timetable
from domain.services.booking_fast import book_with_copy
from domain.services.booking_write import write_booking, write_then_check_timetable
from domain.services.directory import resolve_entity
from domain.services.overlap import ensure_no_overlap, lock_timetables
from domain.services.patients import PatientService
from domain.services.reminders import cancel_reminders, schedule_reminders
from domain.services.timetable_cache import TimetableCache
from domain.services.timetables import lock_clinician
from domain.sql import ConstraintViolation, SessionRunner, SqlRunner, in_transaction

APPOINTMENT = table(Appointment)
RESCHEDULE_FIELDS = frozenset({"time", "duration", "clinician", "department", "postcode"})


class _CheckInOrder(Exception):
    """A booking written before its timetable check was refused by a constraint: run it again with
    the timetable checked first, so that it gets the same answer as on every other path."""


def parse_appointment_id(raw: str) -> uuid.UUID:
    """A path id that is not a UUID names nothing: 404."""
    return parse_uuid(raw, "appointment.not_found")


def overlap_conflict(exc: ConstraintViolation) -> DomainError:
    """Map the constraint that refused a write to the conflict the client sees."""
    name = exc.name
    if "clinician_id_overlap" in name:
        return Conflict("appointment.clinician_overlap")
    if "patient_id_overlap" in name:
        return Conflict("appointment.patient_overlap")
    if "pk_appointment" in name or "appointment.id" in name:
        return Conflict("appointment.duplicate_id")
    if "fk_appointment_patient_id" in name:
        # The patient was erased between the booking's look-up and its insert.
        return InvalidInput([FieldError("patient", "patient.unknown")])
    raise exc


class AppointmentService:
    """Every use case about appointments, on a SQLAlchemy session or a raw driver connection."""

    def __init__(
        self,
        session: AsyncSession | None = None,
        *,
        sql: SqlRunner | None = None,
        reminders: ReminderPolicy,
        audit: AuditTrail | None = None,
        timetables: TimetableCache | None = None,
    ) -> None:
        if sql is None:
            assert session is not None, "a session or a SQL runner is needed"
            sql = SessionRunner(session)
        self.sql = sql
        self.reminders = reminders
        self.audit = audit  # the request's audit event (None outside a request: CLI, jobs)
        self.timetables = timetables  # the process's timetable copies (the API on PostgreSQL)

    async def book(self, data: AppointmentCreate) -> AppointmentView:
        """Create an appointment (new or historical); its reminders are planned if it is active."""
        now = utcnow()
        plan = plan_booking(data.status, data.time, data.duration, now, self.reminders)
        appointment_id = data.id or random_uuid()
        booked = None
        if self.timetables is not None and plan.is_active and data.hold is None and takes_arrays(self.sql.dialect):
            booked = await book_with_copy(  # one statement (booking_fast); else the long way below decides
                self.sql, self.timetables, data, plan,
                appointment_id=appointment_id, now=now, policy=self.reminders, audit=self.audit,
            )  # fmt: skip

        async def insert(check_after_write: bool = True) -> tuple[dict[str, Any], str, str]:
            # On PostgreSQL an active booking takes its timetable locks in the look-up itself.
            locking = plan.is_active and takes_arrays(self.sql.dialect)
            found = await self.sql.fetch_one(
                BOOKING_LOOKUP_LOCKING if locking else BOOKING_LOOKUP,
                nhs_number=data.patient,
                id=appointment_id,
                clinician_key=rules.entity_key(data.clinician),
                department_key=rules.entity_key(data.department),
            )
            assert found is not None
            if found["patient_id"] is None:
                raise InvalidInput([FieldError("patient", "patient.unknown")])
            # Named as soon as the patient is known, so that a refusal below (a timetable or
            # overlap check, before any insert on SQLite) is recorded against them too.
            concerns(self.audit, resource_id=str(appointment_id), patient=data.patient)
            if found["taken"]:
                raise Conflict("appointment.duplicate_id")
            clinician_id, clinician = await self._entity(found, "clinician", Clinician, data.clinician)
            department_id, department = await self._entity(found, "department", Department, data.department)
            values = appointment_row(
                appointment_id,
                patient_id=found["patient_id"],
                clinician_id=clinician_id,
                department_id=department_id,
                plan=plan,
                postcode=data.postcode,
                now=now,
            )
            if check_after_write and locking and found["clinician_id"] is not None and data.hold is None:
                try:  # one round trip for the write and the timetable it must fit (see booking_write)
                    await write_then_check_timetable(self.sql, values, plan, now, self.reminders, self.audit)
                except ConstraintViolation:
                    raise _CheckInOrder from None
                return values, clinician, department
            # The timetable first (as the import does), under the clinician's and the patient's
            # locks on PostgreSQL (one round trip, in every writer's order) so that no hold or
            # clashing booking appears between the checks and the insert.
            if plan.is_active and not (locking and found["clinician_id"] is not None):
                await lock_timetables(self.sql, values)  # (again) now that the clinician exists
            await enforce_timetable(self.sql, plan, clinician_id, now, data.hold)
            if plan.is_active:
                await ensure_no_overlap(self.sql, values, locked=True)
            try:
                await write_booking(self.sql, values, plan, now, self.reminders, self.audit)
            except ConstraintViolation as exc:
                raise overlap_conflict(exc) from None
            if self.audit is not None and not self.audit.written:
                await self.audit.record(self.sql)
            return values, clinician, department

        if booked is None:
            try:
                booked = await in_transaction(self.sql, insert)
            except _CheckInOrder:  # refused by a constraint: the timetable's verdict comes first, as elsewhere
                booked = await in_transaction(self.sql, lambda: insert(check_after_write=False))
        values, clinician, department = booked
        row = {**values, "nhs_number": data.patient, "clinician": clinician, "department": department}
        return appointment_view(row, now)

    async def read(self, raw_id: str) -> AppointmentView:
        """One appointment."""
        appointment_id = parse_appointment_id(raw_id)
        concerns(self.audit, resource_id=str(appointment_id))
        row = await self.sql.fetch_one(APPOINTMENT_BY_ID, id=appointment_id)
        if row is None:
            raise NotFound("appointment.not_found")
        concerns(self.audit, patient=row["nhs_number"])  # the API records the read when its answer is ready
        return appointment_view(row, utcnow())

    async def search(self, filters: AppointmentFilter, limit: int, offset: int) -> Page[AppointmentView]:
        """Appointments matching the filters, by start time."""
        now = utcnow()
        concerns(self.audit, patient=filters.patient)
        rows, total = await fetch_page(self.sql, filters, now, limit, offset)
        return Page(items=[appointment_view(r, now) for r in rows], total=total, limit=limit, offset=offset)

    async def of_patient(self, nhs_number: str, limit: int, offset: int) -> Page[AppointmentView]:
        """The appointments of the patient with this NHS number (any format), by start time; 404 if unknown."""
        patient = await PatientService(sql=self.sql).find_row(nhs_number)
        return await self.search(AppointmentFilter(patient=patient["nhs_number"]), limit, offset)

    async def amend(self, raw_id: str, data: AppointmentUpdate) -> AppointmentView:
        """Reschedule and/or change status, as the status rules allow."""
        appointment_id = parse_appointment_id(raw_id)

        async def change() -> AppointmentView:
            # Locked, so two concurrent changes (say, cancel and attend) cannot both pass the rules.
            row = await fetch_appointment(self.sql, appointment_id, lock=True)
            # Named before the rules run, so that a refused change is recorded against the patient too.
            concerns(self.audit, resource_id=str(row["id"]), patient=row["nhs_number"])
            changes = requested_changes(data, {"id": str(row["id"]), "patient": row["nhs_number"]})
            now = utcnow()
            values = await self._changed_values(row, changes, now)
            before = appointment_view(row, now)
            event = {"resource_id": str(row["id"]), "patient": row["nhs_number"]}
            if not values:
                await record(self.audit, self.sql, **event, changes={})
                return before
            status = Status(values.get("status", row["status"]))
            if status is Status.ACTIVE and ("starts_at" in values or "clinician_id" in values):
                moved = {**row, **values}
                await lock_clinician(self.sql, moved["clinician_id"])
                plan = BookingPlan(status, moved["starts_at"], moved["ends_at"], moved["duration_minutes"])
                await enforce_timetable(self.sql, plan, moved["clinician_id"], now)
                await ensure_no_overlap(self.sql, moved)
            try:
                await self.sql.execute(update(APPOINTMENT).where(APPOINTMENT.c.id == row["id"]).values(values))
            except ConstraintViolation as exc:
                raise overlap_conflict(exc) from None
            # SPEC §6: a rescheduled appointment's unsent reminders are cancelled and new ones
            # planned (what they say is read at sending, but the record shows the change).
            if rescheduled(row, values) or status is not Status.ACTIVE:
                await cancel_reminders(self.sql, [row["id"]])
            if rescheduled(row, values) and status is Status.ACTIVE:
                start = values.get("starts_at", row["starts_at"])
                await schedule_reminders(self.sql, row["id"], start, self.reminders, now)
            updated = await fetch_appointment(self.sql, row["id"])
            after = appointment_view(updated, now)
            await record(self.audit, self.sql, **event, changes=changed_fields(before, after))
            return after

        return await in_transaction(self.sql, change)

    async def remove(self, raw_id: str) -> None:
        """Delete a record entered by mistake; its unsent reminders are cancelled, not lost."""
        appointment_id = parse_appointment_id(raw_id)
        async with self.sql.transaction():
            row = await fetch_appointment(self.sql, appointment_id)
            await cancel_reminders(self.sql, [appointment_id])
            await self.sql.execute(delete(APPOINTMENT).where(APPOINTMENT.c.id == appointment_id))
            await record(self.audit, self.sql, resource_id=str(appointment_id), patient=row["nhs_number"])

    async def _changed_values(self, row: Any, changes: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        """The columns to update, after checking the status rules against the effective status."""
        current = rules.effective_status(row["status"], row["ends_at"], now)
        if current in rules.FINAL_STATUSES:
            raise Conflict("status.final", status=current.value)
        values: dict[str, Any] = {}
        if RESCHEDULE_FIELDS & changes.keys():
            rules.check_reschedulable(current)
            values = await self._reschedule_values(row, changes)
        end = values.get("ends_at", row["ends_at"])
        status = current
        if "status" in changes:
            rules.check_status_change(current, changes["status"], values.get("starts_at", row["starts_at"]), end, now)
            status = changes["status"]
        # A reschedule that already lies in the past is stored as missed, as on create.
        status = rules.effective_status(status, end, now)
        if status != row["status"]:
            values["status"] = status.value
        if values:
            values["updated_at"] = now
        return values

    async def _reschedule_values(self, row: Any, changes: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        start = changes.get("time", row["starts_at"])
        minutes = changes.get("duration", row["duration_minutes"])
        if "time" in changes or "duration" in changes:
            values.update(starts_at=start, duration_minutes=minutes, ends_at=start + dt.timedelta(minutes=minutes))
        if "clinician" in changes:
            values["clinician_id"], _name = await resolve_entity(self.sql, table(Clinician), changes["clinician"])
        if "department" in changes:
            values["department_id"], _name = await resolve_entity(self.sql, table(Department), changes["department"])
        if "postcode" in changes:
            values["postcode"] = changes["postcode"]
        return values

    async def _entity(self, found: Any, kind: str, model: Any, name: str) -> tuple[int, str]:
        """The looked-up clinician or department, created now if this is its first use."""
        if found[f"{kind}_id"] is not None:
            return int(found[f"{kind}_id"]), str(found[kind])
        return await resolve_entity(self.sql, model.__table__, name)
