"""Reading appointments: one joined select, filters that know ``missed`` is derived."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select

from domain.errors import FieldChecker, NotFound
from domain.models import Appointment, Clinician, Department, Patient, table
from domain.paging import fetch_page as paged
from domain.rules import Status, check_search_text, entity_key, normalise_nhs_number, parse_aware_datetime
from domain.rules.status import effective_status_is_sql, parse_status
from domain.sql import Query, SqlRunner

APPOINTMENT = table(Appointment)
PATIENT = table(Patient)
CLINICIAN = table(Clinician)
DEPARTMENT = table(Department)

JOINED = (
    APPOINTMENT.join(CLINICIAN, CLINICIAN.c.id == APPOINTMENT.c.clinician_id)
    .join(DEPARTMENT, DEPARTMENT.c.id == APPOINTMENT.c.department_id)
    .outerjoin(PATIENT, PATIENT.c.id == APPOINTMENT.c.patient_id)
)
COLUMNS = (
    *(column for column in APPOINTMENT.c if column.name != "sa_orm_sentinel"),
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


def parse_filter(
    patient: str | None = None,
    clinician: str | None = None,
    department: str | None = None,
    status: str | None = None,
    start_from: str | None = None,
    start_to: str | None = None,
) -> AppointmentFilter:
    """Validate raw filter values with the domain's rules; every bad one is named in one 400."""
    checker = FieldChecker()
    result = AppointmentFilter(
        patient=checker.check("patient", patient, normalise_nhs_number),
        clinician=checker.check("clinician", clinician, lambda v: check_search_text(v, rule="clinician")),
        department=checker.check("department", department, lambda v: check_search_text(v, rule="department")),
        status=checker.check("status", status, parse_status),
        start_from=checker.check("from", start_from, lambda v: parse_aware_datetime(v, rule="from")),
        start_to=checker.check("to", start_to, lambda v: parse_aware_datetime(v, rule="to")),
    )
    checker.check_range_order(result.start_from, result.start_to)
    checker.raise_if_any()
    return result


def status_condition(status: Status, now: dt.datetime) -> ColumnElement[bool]:
    """SQL for the *effective* status: an ended ``active`` row counts as ``missed``."""
    return effective_status_is_sql(status, APPOINTMENT.c.status, APPOINTMENT.c.ends_at, now)


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


APPOINTMENT_BY_ID = Query(joined_select().where(APPOINTMENT.c.id == bindparam("id")))
APPOINTMENT_BY_ID_LOCKED = Query(
    joined_select().where(APPOINTMENT.c.id == bindparam("id")).with_for_update(of=APPOINTMENT)
)


async def fetch_appointment(sql: SqlRunner, appointment_id: uuid.UUID, *, lock: bool = False) -> Mapping[str, Any]:
    """One joined appointment row, or 404; ``lock`` holds the row until the transaction ends."""
    row = await sql.fetch_one(APPOINTMENT_BY_ID_LOCKED if lock else APPOINTMENT_BY_ID, id=appointment_id)
    if row is None:
        raise NotFound("appointment.not_found")
    return row


async def fetch_page(
    sql: SqlRunner, filters: AppointmentFilter, now: dt.datetime, limit: int, offset: int
) -> tuple[list[Mapping[str, Any]], int]:
    """One page of matching rows, by start time, and how many match in all."""
    ordered = joined_select().order_by(APPOINTMENT.c.starts_at, APPOINTMENT.c.id)
    return await paged(sql, ordered, JOINED, filter_conditions(filters, now), limit, offset)
