"""A booking in one statement, checked against a copy of its clinician's timetable (PostgreSQL).

The long way (domain/services/appointments.py) costs four round trips: ``BEGIN``, the look-up
that takes the timetable locks, the write that reads the timetable back, ``COMMIT``. This way
costs one. The rules are checked first, in Python, against the copy of the clinician's timetable
the process keeps (domain/services/timetable_cache.py). Then one statement, committing on its own,
looks up the patient and the department, takes the same timetable locks in the same order, reads
the clinician's latest timetable version and inserts the appointment, its reminders and its audit
event only if that version is the copy's.

The version is read ``FOR SHARE``: under READ COMMITTED that returns the latest committed row
even if it changed after the statement's snapshot, and no change to the clinician's timetable
that could refuse a booking (each updates that row, migration 0015) can commit until this
statement has. So the booking is stored only if nothing that could refuse it has changed since
the copy. Otherwise nothing is stored and the booking goes the long way, as it does for anything
this way does not decide: an unknown clinician or department, a refusal by the copy, a clash with
another booking.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, func, insert, select, true

from domain import rules
from domain.audit.events import AuditTrail, concerns
from domain.errors import Conflict, FieldError, InvalidInput
from domain.inputs import AppointmentCreate
from domain.models import Appointment, Clinician, Department, table
from domain.rules.booking import BookingPlan, check_plan_against_timetable
from domain.rules.reminders import ReminderPolicy
from domain.services.booking import ID_TAKEN, PATIENT_ID, appointment_row, by_key
from domain.services.booking_write import STORED_COLUMNS, statement_params
from domain.services.overlap import with_timetable_locks
from domain.services.reminders import reminders_of
from domain.services.timetable_cache import TimetableCache, copy_timetable
from domain.sql import ConstraintViolation, Query, SqlRunner, TransientConflict

APPOINTMENT, CLINICIAN, DEPARTMENT = table(Appointment), table(Clinician), table(Department)
_LOOKED_UP = ("patient_id", "clinician_id", "department_id")

_LOOKUP = select(
    PATIENT_ID.scalar_subquery().label("patient_id"),
    ID_TAKEN.label("taken"),
    # The copy's clinician, if the name still leads to them.
    select(CLINICIAN.c.id).where(CLINICIAN.c.id == bindparam("copy_clinician_id"),
                                 CLINICIAN.c.name_key == bindparam("clinician_key"))
    .scalar_subquery().label("clinician_id"),
    by_key(DEPARTMENT, "id", "department_key").label("department_id"),
    by_key(DEPARTMENT, "name", "department_key").label("department"),
)  # fmt: skip


def _one_statement(audited: bool) -> Query:
    locked = with_timetable_locks(_LOOKUP).statement.cte("locked")  # type: ignore[attr-defined]
    # Joined to the locks, so read after them.
    latest = (
        select(CLINICIAN.c.timetable_version)
        .select_from(CLINICIAN.join(locked, CLINICIAN.c.id == locked.c.clinician_id))
        .with_for_update(read=True, of=CLINICIAN)
        .cte("latest")
    )
    row = [locked.c[name] if name in _LOOKED_UP else bindparam(name, type_=APPOINTMENT.c[name].type)
           for name in STORED_COLUMNS]  # fmt: skip
    source = (
        select(*row)
        .select_from(locked.join(latest, true()))
        .where(
            locked.c.patient_id.is_not(None),
            locked.c.department_id.is_not(None),
            ~locked.c.taken,
            latest.c.timetable_version == bindparam("copy_version"),
        )
    )
    booked = insert(APPOINTMENT).from_select(STORED_COLUMNS, source).returning(APPOINTMENT.c.id).cte("booked")
    written = reminders_of(booked, audited=audited).cte("written")
    stored = select(func.count()).select_from(booked).scalar_subquery().label("booked")
    return Query(select(locked.c.patient_id, locked.c.taken, locked.c.department_id, locked.c.department,
                        stored).add_cte(written))  # fmt: skip


BOOK_IN_ONE_STATEMENT = _one_statement(audited=False)
BOOK_IN_ONE_STATEMENT_AUDITED = _one_statement(audited=True)


async def book_with_copy(
    sql: SqlRunner,
    copies: TimetableCache,
    data: AppointmentCreate,
    plan: BookingPlan,
    *,
    appointment_id: uuid.UUID,
    now: dt.datetime,
    policy: ReminderPolicy,
    audit: AuditTrail | None,
) -> tuple[dict[str, Any], str, str] | None:
    """Store an active booking without a hold in one statement, checked against the copy of its
    clinician's timetable. Returns the stored row and the clinician's and department's names, or
    None where the long way must decide."""
    clinician_key = rules.entity_key(data.clinician)
    copy = copies.get(clinician_key)
    if copy is None:
        copy = await copy_timetable(sql, clinician_key, now)
        if copy is None:
            return None  # an unknown clinician: the long way creates them
        copies.put(clinician_key, copy)
    try:
        check_plan_against_timetable(plan, copy.timetable, now)
    except Conflict:
        # The verdict is the latest timetable's: the long way reads it. A removed hold or leave
        # keeps the version (migration 0015), so the copy is read again next time.
        copies.forget(clinician_key, copy.version)
        return None
    # The patient's and department's ids are the statement's own look-up: these two are not bound.
    values = appointment_row(appointment_id, patient_id=0, clinician_id=copy.clinician_id, department_id=0,
                             plan=plan, postcode=data.postcode, now=now)  # fmt: skip
    statement = BOOK_IN_ONE_STATEMENT if audit is None else BOOK_IN_ONE_STATEMENT_AUDITED
    # The event stored with the booking names it and its patient; the request's trail is told so
    # below, once the patient is known to exist (an unknown number is not recorded).
    event = replace(audit, resource_id=str(appointment_id), patient=data.patient) if audit is not None else None
    try:
        found = await sql.fetch_one(
            statement,
            **statement_params(values, plan, now, policy, event),
            nhs_number=data.patient,
            copy_clinician_id=copy.clinician_id,
            clinician_key=clinician_key,
            department_key=rules.entity_key(data.department),
            copy_version=copy.version,
        )
    except (ConstraintViolation, TransientConflict):
        return None  # a clash: the long way checks the timetable first, then the clash, in order
    assert found is not None
    if found["patient_id"] is None:
        raise InvalidInput([FieldError("patient", "patient.unknown")])
    concerns(audit, resource_id=str(appointment_id), patient=data.patient)
    if found["taken"]:
        raise Conflict("appointment.duplicate_id")
    if not found["booked"]:
        if found["department_id"] is not None:  # the copy is out of date (a new department is not)
            copies.forget(clinician_key, copy.version)
        return None
    if audit is not None:
        audit.written = True
        audit.committed = not sql.is_in_transaction()
    stored = {**values, "patient_id": found["patient_id"], "department_id": found["department_id"]}
    return stored, copy.clinician, found["department"]
