"""Planning a booking: the one place that decides what a new appointment becomes.

The API's ``POST /appointments``, the bulk import and the example loader all call
:func:`plan_booking`, so the status rules on create, the derived end and the reminders planned
cannot drift apart between them. What needs stored data (the patient exists, no overlap) is
checked by the callers against the database, with the same error codes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from domain.rules.reminders import ReminderPolicy, plan_reminders
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
