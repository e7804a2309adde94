"""Appointment status: the derived ``missed`` status and the allowed transitions."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from domain.errors import Conflict
from domain.rules.choices import parse_choice


class Status(StrEnum):
    """The four states of an appointment."""

    ACTIVE = "active"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    MISSED = "missed"


FINAL_STATUSES = frozenset({Status.ATTENDED, Status.CANCELLED})


def parse_status(raw: Any) -> Status:
    """Accept one of the four status names exactly."""
    return parse_choice(Status, raw, "status.invalid")


def effective_status(stored: Status | str, end: dt.datetime, now: dt.datetime) -> Status:
    """An appointment still ``active`` when its end has passed is ``missed``, whatever is stored."""
    status = Status(stored)
    if status is Status.ACTIVE and end <= now:
        return Status.MISSED
    return status


def ended_while_active_sql(
    stored: ColumnElement[Any], end: ColumnElement[Any], now: dt.datetime
) -> ColumnElement[bool]:
    """SQL: still stored ``active`` although its end has passed (what the sweep stores as ``missed``)."""
    return and_(stored == Status.ACTIVE.value, end <= now)


def effective_status_is_sql(
    status: Status, stored: ColumnElement[Any], end: ColumnElement[Any], now: dt.datetime
) -> ColumnElement[bool]:
    """SQL form of ``effective_status(stored, end, now) is status``, for filters and reports.

    Written on the stored columns, so PostgreSQL can use the ``(status, ends_at)`` index.
    """
    if status is Status.ACTIVE:
        return and_(stored == Status.ACTIVE.value, end > now)
    if status is Status.MISSED:
        return or_(stored == Status.MISSED.value, ended_while_active_sql(stored, end, now))
    return stored == status.value


def stored_status_on_create(requested: Status, end: dt.datetime, now: dt.datetime) -> Status:
    """Historical records keep their status, but a past ``active`` one is stored as ``missed``."""
    return effective_status(requested, end, now)


def check_create_status(requested: Status, start: dt.datetime, now: dt.datetime, end: dt.datetime) -> None:
    """A record cannot be attended before it starts, nor missed before it ends."""
    if requested is Status.ATTENDED and start > now:
        raise Conflict("status.attended_in_future")
    if requested is Status.MISSED and end > now:
        raise Conflict("status.not_ended")


def check_status_change(
    current: Status, target: Status, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> None:
    """Refuse a change the status rules forbid (409); ``current`` is the effective status."""
    if current in FINAL_STATUSES:
        raise Conflict("status.final", status=current.value)
    if target is current:
        return
    if current is Status.ACTIVE:
        if target is Status.ATTENDED and now < start:
            raise Conflict("status.not_started")
        if target is Status.CANCELLED and now >= end:
            raise Conflict("status.already_ended")
        if target is Status.MISSED and now < end:
            raise Conflict("status.not_ended")
        return
    if current is Status.MISSED and target is Status.ATTENDED:
        return
    raise Conflict("status.transition", current=current.value, target=target.value)


def check_reschedulable(current: Status) -> None:
    """Only an active appointment that has not ended may change time, clinician or place."""
    if current in FINAL_STATUSES:
        raise Conflict("status.final", status=current.value)
    if current is not Status.ACTIVE:
        raise Conflict("appointment.not_active", status=current.value)
