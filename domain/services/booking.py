"""The stored row of a planned booking, and the clinician's timetable it must fit: built once for the
API, the bulk import and the examples."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import bindparam, delete, exists, select

from domain.errors import Conflict
from domain.models import Appointment, Clinician, Department, Patient, SlotHold, table
from domain.rules.booking import BookingPlan, check_plan_against_timetable
from domain.rules.slots import Hold, Timetable
from domain.services.overlap import with_timetable_locks
from domain.services.timetables import load_timetables
from domain.sql import Query, SqlRunner

HOLD = table(SlotHold)
APPOINTMENT = table(Appointment)


def by_key(table: Any, column: str, key: str) -> Any:
    """``column`` of the clinician or department whose name key is bound as ``key`` (a scalar subquery)."""
    return select(table.c[column]).where(table.c.name_key == bindparam(key)).scalar_subquery()


# What every booking looks up first: the patient by NHS number, and whether the id is taken.
PATIENT_ID = select(table(Patient).c.id).where(table(Patient).c.nhs_number == bindparam("nhs_number"))
ID_TAKEN = exists().where(APPOINTMENT.c.id == bindparam("id"))

# Everything a booking must look up, in one round trip (the booking benchmark's main cost).
BOOKING_LOOKUP = Query(
    select(
        PATIENT_ID.scalar_subquery().label("patient_id"),
        ID_TAKEN.label("taken"),
        by_key(table(Clinician), "id", "clinician_key").label("clinician_id"),
        by_key(table(Clinician), "name", "clinician_key").label("clinician"),
        by_key(table(Department), "id", "department_key").label("department_id"),
        by_key(table(Department), "name", "department_key").label("department"),
    )
)

BOOKING_LOOKUP_LOCKING = with_timetable_locks(BOOKING_LOOKUP.statement)

HOLD_BY_ID = Query(select(HOLD).where(HOLD.c.id == bindparam("id")))
CONSUME_HOLD = Query(delete(HOLD).where(HOLD.c.id == bindparam("id")))


def appointment_row(
    appointment_id: uuid.UUID,
    *,
    patient_id: int,
    clinician_id: int,
    department_id: int,
    plan: BookingPlan,
    postcode: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The ``appointment`` columns of a booking that :func:`domain.rules.booking.plan_booking` planned."""
    return {
        "id": appointment_id,
        "patient_id": patient_id,
        "clinician_id": clinician_id,
        "department_id": department_id,
        "status": plan.status.value,
        "starts_at": plan.start,
        "ends_at": plan.end,
        "duration_minutes": plan.duration_minutes,
        "postcode": postcode,
        "created_at": now,
        "updated_at": now,
    }


async def load_hold(sql: SqlRunner, hold_id: uuid.UUID) -> tuple[int, Hold] | None:
    """A hold by id, expired or not, with its clinician."""
    row = await sql.fetch_one(HOLD_BY_ID, id=hold_id)
    if row is None:
        return None
    return int(row["clinician_id"]), Hold(row["id"], row["starts_at"], row["ends_at"], row["expires_at"])


def with_hold(timetable: Timetable, clinician_id: int, found: tuple[int, Hold] | None) -> Timetable:
    """``timetable`` with the booking's own hold in it (refused as a mismatch if it is another clinician's)."""
    if found is None:
        return timetable
    hold_clinician, hold = found
    if hold_clinician != clinician_id:
        raise Conflict("hold.mismatch")
    others = [h for h in timetable.holds if h.id != hold.id]
    return Timetable(timetable.sessions, timetable.unavailable, [*others, hold])


async def enforce_timetable(
    sql: SqlRunner, plan: BookingPlan, clinician_id: int, now: dt.datetime, hold_id: uuid.UUID | None = None
) -> None:
    """Check one planned booking against its clinician's timetable and consume its hold (409 if refused).

    Runs inside the booking's transaction, after the clinician's timetable lock (PostgreSQL) or
    under SQLite's serialised writer, so no hold can appear between the check and the insert.
    """
    if not plan.is_active and hold_id is None:
        return
    timetables = await load_timetables(sql, [clinician_id], plan.start, plan.end, now)
    found = await load_hold(sql, hold_id) if hold_id is not None else None
    timetable = with_hold(timetables[clinician_id], clinician_id, found)
    taken = check_plan_against_timetable(plan, timetable, now, hold_id)
    if taken is not None:
        await sql.execute(CONSUME_HOLD, id=taken.id)
