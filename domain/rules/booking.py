"""Planning a booking: the one place that decides what a new appointment becomes.

The API's ``POST /appointments``, the bulk import and the example loader all call
:func:`plan_booking`, so the status rules on create, the derived end and the reminders planned
cannot drift apart between them. What needs stored data (the patient exists, no overlap) is
checked by the callers against the database, with the same error codes; what a clinician's
timetable allows (SPEC §10) is :func:`check_plan_against_timetable`, given the timetable the
callers load (``domain.services.booking.enforce_timetable`` for one booking, the import for a chunk).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.errors import Conflict
from domain.rules.reminders import ReminderPolicy, plan_reminders
from domain.rules.slots import Hold, Timetable, check_against_timetable
from domain.rules.status import Status, check_create_status, stored_status_on_create


@dataclass(frozen=True)
class BookingPlan:
    """What a requested appointment is stored as: its status, interval and reminder due times."""

    status: Status
    start: dt.datetime
    end: dt.datetime
    duration_minutes: int
    reminders_due: tuple[dt.datetime, ...] = field(default=())

    @property
    def is_active(self) -> bool:
        """Active bookings hold their clinician's and patient's time and get reminders."""
        return self.status is Status.ACTIVE


def plan_booking(
    requested: Status, start: dt.datetime, duration_minutes: int, now: dt.datetime, reminders: ReminderPolicy
) -> BookingPlan:
    """Check the status rules on create and plan the stored row (409 :class:`Conflict` if refused).

    A record cannot be ``attended`` before it starts nor ``missed`` before it ends; a past
    ``active`` one is stored as ``missed``; only an active one gets reminders, at the policy's
    offsets before its start, leaving out those already past.
    """
    end = start + dt.timedelta(minutes=duration_minutes)
    check_create_status(requested, start, now, end)
    status = stored_status_on_create(requested, end, now)
    due = tuple(plan_reminders(start, now, reminders.offsets_minutes)) if status is Status.ACTIVE else ()
    return BookingPlan(status=status, start=start, end=end, duration_minutes=duration_minutes, reminders_due=due)


def check_plan_against_timetable(
    plan: BookingPlan, timetable: Timetable, now: dt.datetime, hold_id: uuid.UUID | None = None
) -> Hold | None:
    """SPEC §10 on a planned booking: holds, sessions and unavailability (409 if refused).

    Only an active booking takes time from a clinician: history is not checked, and cannot take a
    hold. The schedule and unavailability are checked for a booking that has not started yet (a
    clinician without any schedule is not checked). Returns the hold the booking consumes.
    """
    if not plan.is_active:
        if hold_id is not None:
            raise Conflict("hold.mismatch")
        return None
    return check_against_timetable(timetable, plan.start, plan.end, now, hold_id, future_active=plan.start >= now)


# The stored columns of the fields SPEC §3 calls a reschedule (time, duration, clinician, and the
# place: department, postcode). A change to any of them re-plans the unsent reminders (SPEC §6).
RESCHEDULE_COLUMNS = ("starts_at", "duration_minutes", "clinician_id", "department_id", "postcode")


def rescheduled(row: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """Whether ``values`` (the columns an update sets) move the appointment ``row`` in time or place."""
    return any(column in values and values[column] != row[column] for column in RESCHEDULE_COLUMNS)
