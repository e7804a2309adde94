"""Appointment chunks: the API's rules for booking, applied to a chunk of rows at once.

Each valid row names a stored patient, obeys the status rules on create, fits its clinician's
timetable (sessions, unavailability, holds: SPEC §10), and (when stored as
``active``) overlaps no active appointment of its clinician or patient: stored ones, or earlier
rows of the chunk (checked with ``rules.intervals_overlap``). A row without an ``id`` gets one
derived from its patient, start and clinician, so importing the same file twice finds it.
An import inserts the chunk in multi-row statements with ``ON CONFLICT DO NOTHING``; on
PostgreSQL the exclusion constraints also hold against concurrent writers, and a row they
refuse is reported as the overlap it is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, or_, select

from domain import rules
from domain.dialects import insert_ignoring_conflicts
from domain.errors import Conflict, FieldError
from domain.inputs import AppointmentCreate
from domain.jobs.keys import batches, claim_keys, existing
from domain.jobs.outcome import ChunkOutcome
from domain.jobs.readers import Row
from domain.jobs.validate import check_appointment
from domain.models import Appointment, Clinician, Department, Patient
from domain.rules import Status
from domain.rules.booking import BookingPlan, check_plan_against_timetable, plan_booking
from domain.rules.reminders import ReminderPolicy
from domain.rules.slots import Timetable
from domain.services.booking import HOLD, appointment_row, load_hold, with_hold
from domain.services.directory import resolve_entity
from domain.services.overlap import CHECKS
from domain.services.reminders import reminder_rows, store_reminders
from domain.services.timetables import load_timetables, lock_clinicians
from domain.sql import SqlRunner

APPOINTMENT = cast("Table", Appointment.__table__)
CLINICIAN = cast("Table", Clinician.__table__)
DEPARTMENT = cast("Table", Department.__table__)
PATIENT = cast("Table", Patient.__table__)
# Fixed forever: ids derived from it must stay the same between two imports of one file.
DERIVED_ID_NAMESPACE = uuid.UUID("5f0c7c8e-4f57-4d8a-9a3c-0b1d2e3f4a5b")
INSERT_BATCH = 1000
OVERLAP_FIELD = "time"


@dataclass
class Booking:
    """A row that passed the input rules and the booking plan, on its way to being stored."""

    number: int
    data: AppointmentCreate
    id: uuid.UUID
    plan: BookingPlan
    patient_id: int

    @property
    def end(self) -> dt.datetime:
        return self.plan.end

    @property
    def status(self) -> Status:
        return self.plan.status


def derived_id(data: AppointmentCreate) -> uuid.UUID:
    """The row's own id, or a stable one made from its patient, start and clinician."""
    if data.id is not None:
        return data.id
    return uuid.uuid5(
        DERIVED_ID_NAMESPACE, f"{data.patient}|{data.time.isoformat()}|{rules.entity_key(data.clinician)}"
    )


async def settle(
    sql: SqlRunner,
    job_id: uuid.UUID,
    importing: bool,
    rows: Sequence[Row],
    now: dt.datetime,
    reminders: ReminderPolicy,
) -> ChunkOutcome:
    """Validate a chunk against the rules and the stored data, and (importing) store its new rows."""
    outcome = ChunkOutcome()
    parsed: list[tuple[int, AppointmentCreate]] = []
    for row in rows:
        checked = row.errors if row.data is None else check_appointment(row.data)
        if isinstance(checked, AppointmentCreate):
            parsed.append((row.number, checked))
        else:
            outcome.reject(row.number, checked)
    bookings = await _bookable(sql, parsed, now, reminders, outcome)
    fresh = await _without_duplicates(sql, job_id, importing, bookings, outcome)
    fitting = await _within_timetables(sql, fresh, now, outcome, importing)
    accepted = await _without_overlaps(sql, fitting, outcome)
    outcome.valid += len(accepted)
    if importing and accepted:
        await _store(sql, accepted, now, reminders, outcome)
    return outcome


async def _bookable(
    sql: SqlRunner,
    parsed: Sequence[tuple[int, AppointmentCreate]],
    now: dt.datetime,
    reminders: ReminderPolicy,
    outcome: ChunkOutcome,
) -> list[Booking]:
    """Rows whose patient is stored and whose status may be created as it is."""
    patients: dict[str, int] = {}
    for batch in batches(sorted({data.patient for _n, data in parsed})):
        stmt = select(PATIENT.c.id, PATIENT.c.nhs_number).where(PATIENT.c.nhs_number.in_(list(batch)))
        patients.update({row["nhs_number"]: int(row["id"]) for row in await sql.fetch_all(stmt)})
    bookings = []
    for number, data in parsed:
        if data.patient not in patients:
            outcome.reject(number, [FieldError("patient", "patient.unknown")])
            continue
        try:
            plan = plan_booking(data.status, data.time, data.duration, now, reminders)
        except Conflict as exc:
            outcome.reject(number, [FieldError("status", exc.code, exc.params)])
            continue
        bookings.append(Booking(number, data, derived_id(data), plan, patients[data.patient]))
    return bookings


async def _without_duplicates(
    sql: SqlRunner, job_id: uuid.UUID, importing: bool, bookings: Sequence[Booking], outcome: ChunkOutcome
) -> list[Booking]:
    """Drop (and count) rows whose id is stored, or seen earlier in this file."""
    stored = await existing(sql, APPOINTMENT.c.id, (b.id for b in bookings))
    seen: set[uuid.UUID] = set()
    fresh = []
    for booking in bookings:
        if booking.id in stored or booking.id in seen:
            outcome.duplicate()
        else:
            seen.add(booking.id)
            fresh.append(booking)
    if importing or not fresh:
        return fresh
    first_seen = await claim_keys(sql, job_id, [str(b.id) for b in fresh])
    for booking in fresh:
        if str(booking.id) not in first_seen:
            outcome.duplicate()
    return [b for b in fresh if str(b.id) in first_seen]


async def _within_timetables(
    sql: SqlRunner, bookings: Sequence[Booking], now: dt.datetime, outcome: ChunkOutcome, importing: bool
) -> list[Booking]:
    """Refuse rows their clinician's timetable does not allow (SPEC §10), as the API does.

    Timetables are loaded for every stored clinician of the chunk at once; a clinician not yet
    stored has no schedule, hold or unavailability, so their rows pass. Holds named by rows are
    consumed by :func:`_store`, with the rows that take them. An import first takes those
    clinicians' timetable locks, as every writer of a timetable does, so that no hold or absence
    the API commits meanwhile is missed: it waits for this chunk, and then sees its rows.
    """
    checked = [b for b in bookings if b.plan.is_active or b.data.hold is not None]
    if not checked:
        return list(bookings)
    keys = sorted({rules.entity_key(b.data.clinician) for b in checked})
    stmt = select(CLINICIAN.c.id, CLINICIAN.c.name_key).where(CLINICIAN.c.name_key.in_(keys))
    clinicians = {row["name_key"]: int(row["id"]) for row in await sql.fetch_all(stmt)}
    if importing:
        await lock_clinicians(sql, clinicians.values())
    start = min(b.plan.start for b in checked)
    end = max(b.plan.end for b in checked)
    timetables = await load_timetables(sql, clinicians.values(), start, end, now)
    accepted = []
    for booking in bookings:
        clinician_id = clinicians.get(rules.entity_key(booking.data.clinician))
        hold_id = booking.data.hold
        try:
            if booking.plan.is_active or hold_id is not None:
                found = await load_hold(sql, hold_id) if hold_id is not None else None
                timetable = timetables.get(clinician_id, Timetable()) if clinician_id is not None else Timetable()
                timetable = with_hold(timetable, clinician_id if clinician_id is not None else -1, found)
                check_plan_against_timetable(booking.plan, timetable, now, hold_id)
        except Conflict as exc:
            field = "hold" if exc.code.startswith("hold.") else OVERLAP_FIELD
            outcome.reject(booking.number, [FieldError(field, exc.code, exc.params)])
            continue
        accepted.append(booking)
    return accepted


async def _without_overlaps(sql: SqlRunner, bookings: Sequence[Booking], outcome: ChunkOutcome) -> list[Booking]:
    """Refuse active rows that overlap a stored active appointment or an earlier row of the chunk."""
    active = [b for b in bookings if b.status is Status.ACTIVE]
    by_clinician: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    by_patient: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    if active:
        stmt = (
            select(APPOINTMENT.c.patient_id, CLINICIAN.c.name_key, APPOINTMENT.c.starts_at, APPOINTMENT.c.ends_at)
            .join(CLINICIAN, CLINICIAN.c.id == APPOINTMENT.c.clinician_id)
            .where(
                APPOINTMENT.c.status == Status.ACTIVE.value,
                APPOINTMENT.c.starts_at < max(b.end for b in active),
                APPOINTMENT.c.ends_at > min(b.data.time for b in active),
                or_(
                    APPOINTMENT.c.patient_id.in_(sorted({b.patient_id for b in active})),
                    CLINICIAN.c.name_key.in_(sorted({rules.entity_key(b.data.clinician) for b in active})),
                ),
            )
        )
        for row in await sql.fetch_all(stmt):
            by_clinician[row["name_key"]].append((row["starts_at"], row["ends_at"]))
            if row["patient_id"] is not None:
                by_patient[int(row["patient_id"])].append((row["starts_at"], row["ends_at"]))
    accepted = []
    for booking in bookings:
        if booking.status is Status.ACTIVE:
            interval = (booking.data.time, booking.end)
            clinician = by_clinician[rules.entity_key(booking.data.clinician)]
            patient = by_patient[booking.patient_id]
            if any(rules.intervals_overlap(*interval, *other) for other in clinician):
                outcome.reject(booking.number, [FieldError(OVERLAP_FIELD, "appointment.clinician_overlap")])
                continue
            if any(rules.intervals_overlap(*interval, *other) for other in patient):
                outcome.reject(booking.number, [FieldError(OVERLAP_FIELD, "appointment.patient_overlap")])
                continue
            clinician.append(interval)
            patient.append(interval)
        accepted.append(booking)
    return accepted


async def _store(
    sql: SqlRunner, bookings: Sequence[Booking], now: dt.datetime, reminders: ReminderPolicy, outcome: ChunkOutcome
) -> None:
    """Insert the accepted rows; a row a concurrent writer beat us to is a duplicate or an overlap."""
    entities: dict[tuple[str, str], int] = {}
    for booking in bookings:
        for kind, table, name in (
            ("clinician", CLINICIAN, booking.data.clinician),
            ("department", DEPARTMENT, booking.data.department),
        ):
            key = (kind, rules.entity_key(name))
            if key not in entities:
                entities[key], _spelling = await resolve_entity(sql, table, name)
    values = [_columns(b, entities, now) for b in bookings]
    stored: set[uuid.UUID] = set()
    for batch in batches(values, INSERT_BATCH):
        stmt = insert_ignoring_conflicts(APPOINTMENT, sql.dialect).values(list(batch)).returning(APPOINTMENT.c.id)
        stored.update(row["id"] for row in await sql.fetch_all(stmt))
    outcome.imported += len(stored)
    refused = [(b, v) for b, v in zip(bookings, values, strict=True) if b.id not in stored]
    taken = await existing(sql, APPOINTMENT.c.id, (b.id for b, _v in refused))
    for booking, row in refused:
        if booking.id in taken:
            outcome.duplicates += 1  # already counted valid
            continue
        outcome.valid -= 1
        outcome.reject(booking.number, [FieldError(OVERLAP_FIELD, await _overlap_code(sql, row))])
    planned = [
        row
        for booking in bookings
        if booking.id in stored
        for row in reminder_rows(booking.id, booking.plan.reminders_due, reminders.channel, now)
    ]
    await store_reminders(sql, planned)
    consumed_holds = [b.data.hold for b in bookings if b.id in stored and b.data.hold is not None]
    if consumed_holds:
        await sql.execute(delete(HOLD).where(HOLD.c.id.in_(consumed_holds)))


def _columns(booking: Booking, entities: dict[tuple[str, str], int], now: dt.datetime) -> dict[str, Any]:
    data = booking.data
    return appointment_row(
        booking.id,
        patient_id=booking.patient_id,
        clinician_id=entities[("clinician", rules.entity_key(data.clinician))],
        department_id=entities[("department", rules.entity_key(data.department))],
        plan=booking.plan,
        postcode=data.postcode,
        now=now,
    )


async def _overlap_code(sql: SqlRunner, row: dict[str, Any]) -> str:
    """Which overlap refused ``row`` (the database's constraint said only that one did)."""
    for column, query, code in CHECKS:
        params = {"owner": row[column], "starts_at": row["starts_at"], "ends_at": row["ends_at"]}
        if await sql.scalar(query, id=row["id"], **params) is not None:
            return code
    return "appointment.clinician_overlap"
