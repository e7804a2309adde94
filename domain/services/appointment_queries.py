"""Reading appointments: one joined select, filters that know ``missed`` is derived."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import NotFound
from domain.models import Appointment, Clinician, Department, Patient
from domain.rules import Status, entity_key

APPOINTMENT = Appointment.__table__
PATIENT = Patient.__table__
CLINICIAN = Clinician.__table__
DEPARTMENT = Department.__table__

JOINED = (
    APPOINTMENT.join(CLINICIAN, CLINICIAN.c.id == APPOINTMENT.c.clinician_id)
    .join(DEPARTMENT, DEPARTMENT.c.id == APPOINTMENT.c.department_id)
    .outerjoin(PATIENT, PATIENT.c.id == APPOINTMENT.c.patient_id)
)
COLUMNS = (
    *APPOINTMENT.c,
    PATIENT.c.nhs_number,
    CLINICIAN.c.name.label("clinician"),
    DEPARTMENT.c.name.label("department"),
)


@dataclass(frozen=True)
class AppointmentFilter:
    """The filters of ``GET /appointments``; each is optional."""

    patient: str | None = None
    clinician: str | None = None
    department: str | None = None
    status: Status | None = None
    start_from: dt.datetime | None = None
    start_to: dt.datetime | None = None


def status_condition(status: Status, now: dt.datetime) -> ColumnElement[bool]:
    """SQL for the *effective* status: an ended ``active`` row counts as ``missed``."""
    col = APPOINTMENT.c
    if status is Status.ACTIVE:
        return and_(col.status == Status.ACTIVE, col.ends_at > now)
    if status is Status.MISSED:
        return or_(col.status == Status.MISSED, and_(col.status == Status.ACTIVE, col.ends_at <= now))
    return col.status == status


def filter_conditions(filters: AppointmentFilter, now: dt.datetime) -> list[ColumnElement[bool]]:
    """Translate the filters into conditions on the joined select."""
    conditions: list[ColumnElement[bool]] = []
    if filters.patient is not None:
        conditions.append(PATIENT.c.nhs_number == filters.patient)
    if filters.clinician is not None:
        conditions.append(CLINICIAN.c.name_key == entity_key(filters.clinician))
    if filters.department is not None:
        conditions.append(DEPARTMENT.c.name_key == entity_key(filters.department))
    if filters.status is not None:
        conditions.append(status_condition(filters.status, now))
    if filters.start_from is not None:
        conditions.append(APPOINTMENT.c.starts_at >= filters.start_from)
    if filters.start_to is not None:
        conditions.append(APPOINTMENT.c.starts_at < filters.start_to)
    return conditions


def joined_select() -> Select[Any]:
    """Appointments with their patient's NHS number and the clinician's and department's names."""
    return select(*COLUMNS).select_from(JOINED)


async def fetch_appointment(session: AsyncSession, appointment_id: uuid.UUID) -> Any:
    """One joined appointment row, or 404."""
    stmt = joined_select().where(APPOINTMENT.c.id == appointment_id)
    row = (await session.execute(stmt)).mappings().one_or_none()
    if row is None:
        raise NotFound("appointment.not_found")
    return row


async def fetch_page(
    session: AsyncSession, filters: AppointmentFilter, now: dt.datetime, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of matching rows, by start time, and how many match in all."""
    conditions = filter_conditions(filters, now)
    stmt = (
        joined_select()
        .where(*conditions)
        .order_by(APPOINTMENT.c.starts_at, APPOINTMENT.c.id)
        .limit(limit)
        .offset(offset)
    )
    rows = list((await session.execute(stmt)).mappings().all())
    count = select(func.count()).select_from(JOINED).where(*conditions)
    total = (await session.execute(count)).scalar_one()
    return rows, total
