"""What PANDA returns: plain structs, built from stored rows by the ``*_view`` functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from domain.rules import effective_status, format_duration, to_utc_iso
from domain.rules.schedules import format_wall_time, weekday_names

T = TypeVar("T")


class PatientView(msgspec.Struct):
    """A patient as the API shows them."""

    nhs_number: str
    name: str
    date_of_birth: str
    postcode: str
    email: str | None
    phone: str | None
    reminder_preference: str | None
    language: str
    # Contact details a provider reported permanently failing (``email``, ``phone``): ask for new ones.
    undeliverable: list[str]
    created_at: str
    updated_at: str


class AppointmentView(msgspec.Struct):
    """An appointment; ``status`` is the effective one (an ended ``active`` reads ``missed``)."""

    id: str
    patient: str | None
    status: str
    time: str
    duration: str
    end: str
    clinician: str
    department: str
    postcode: str
    created_at: str
    updated_at: str


class DirectoryEntryView(msgspec.Struct):
    """A clinician or department with how many appointments name it."""

    id: int
    name: str
    appointments: int


class ReminderView(msgspec.Struct):
    """A reminder of an appointment: when it is due, how it goes, what became of it."""

    id: str
    due_at: str
    channel: str
    status: str
    attempts: int
    sent_at: str | None
    medium: str | None
    language: str | None
    delivery: str | None
    delivered_at: str | None


class OutboxMessageView(msgspec.Struct):
    """A message the ``outbox`` channel recorded; ``reminder_id`` is the send's idempotency key."""

    id: str
    reminder_id: str
    appointment: str | None
    recipient: str
    subject: str
    body: str
    medium: str | None
    language: str | None
    created_at: str


class Page(msgspec.Struct, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int


def patient_view(row: Mapping[str, Any]) -> PatientView:
    """Build the API view of a stored patient row."""
    return PatientView(
        nhs_number=row["nhs_number"],
        name=row["name"],
        date_of_birth=row["date_of_birth"].isoformat(),
        postcode=row["postcode"],
        email=row["email"],
        phone=row["phone"],
        reminder_preference=row["reminder_preference"],
        language=row["language"],
        undeliverable=[detail for detail in ("email", "phone") if row[f"{detail}_unusable"]],
        created_at=to_utc_iso(row["created_at"]),
        updated_at=to_utc_iso(row["updated_at"]),
    )


def appointment_view(row: Mapping[str, Any], now: Any) -> AppointmentView:
    """Build the API view of a stored appointment row joined with its names."""
    return AppointmentView(
        id=str(row["id"]),
        patient=row["nhs_number"],
        status=effective_status(row["status"], row["ends_at"], now).value,
        time=to_utc_iso(row["starts_at"]),
        duration=format_duration(row["duration_minutes"]),
        end=to_utc_iso(row["ends_at"]),
        clinician=row["clinician"],
        department=row["department"],
        postcode=row["postcode"],
        created_at=to_utc_iso(row["created_at"]),
        updated_at=to_utc_iso(row["updated_at"]),
    )


def reminder_view(row: Mapping[str, Any]) -> ReminderView:
    """Build the API view of a stored reminder row."""
    return ReminderView(
        id=str(row["id"]),
        due_at=to_utc_iso(row["due_at"]),
        channel=row["channel"],
        status=row["status"],
        attempts=row["attempts"],
        sent_at=to_utc_iso(row["sent_at"]) if row["sent_at"] is not None else None,
        medium=row["medium"],
        language=row["language"],
        delivery=row["delivery"],
        delivered_at=to_utc_iso(row["delivered_at"]) if row["delivered_at"] is not None else None,
    )


def outbox_message_view(row: Mapping[str, Any]) -> OutboxMessageView:
    """Build the API view of a stored outbox message."""
    return OutboxMessageView(
        id=str(row["id"]),
        reminder_id=str(row["reminder_id"]),
        appointment=str(row["appointment_id"]) if row["appointment_id"] is not None else None,
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        medium=row["medium"],
        language=row["language"],
        created_at=to_utc_iso(row["created_at"]),
    )


class ScheduleView(msgspec.Struct):
    """A clinician's recurring session; ``start``/``end`` are London wall-clock ``HH:MM``."""

    id: str
    clinician: str
    department: str
    postcode: str
    weekdays: list[str]
    start: str
    end: str
    slot: str
    valid_from: str
    valid_to: str | None
    created_at: str
    updated_at: str


class UnavailabilityView(msgspec.Struct, rename={"starts_at": "from", "ends_at": "to"}):
    """Time a clinician cannot see patients, ``[from, to)``."""

    id: str
    clinician: str
    starts_at: str
    ends_at: str
    reason: str | None
    created_at: str


class SlotView(msgspec.Struct):
    """A free slot: bookable as it is, or held first with ``POST /slots/holds``."""

    clinician: str
    department: str
    postcode: str
    start: str
    end: str


class HoldView(msgspec.Struct):
    """A held interval of a clinician, until ``expires_at``."""

    id: str
    clinician: str
    start: str
    end: str
    expires_at: str


def schedule_view(row: Mapping[str, Any]) -> ScheduleView:
    """Build the API view of a stored schedule row joined with its names."""
    return ScheduleView(
        id=str(row["id"]),
        clinician=row["clinician"],
        department=row["department"],
        postcode=row["postcode"],
        weekdays=weekday_names(row["weekdays"]),
        start=format_wall_time(row["start_minute"]),
        end=format_wall_time(row["end_minute"]),
        slot=format_duration(row["slot_minutes"]),
        valid_from=row["valid_from"].isoformat(),
        valid_to=row["valid_to"].isoformat() if row["valid_to"] is not None else None,
        created_at=to_utc_iso(row["created_at"]),
        updated_at=to_utc_iso(row["updated_at"]),
    )


def unavailability_view(row: Mapping[str, Any]) -> UnavailabilityView:
    """Build the API view of a stored unavailability row joined with the clinician's name."""
    return UnavailabilityView(
        id=str(row["id"]),
        clinician=row["clinician"],
        starts_at=to_utc_iso(row["starts_at"]),
        ends_at=to_utc_iso(row["ends_at"]),
        reason=row["reason"],
        created_at=to_utc_iso(row["created_at"]),
    )
