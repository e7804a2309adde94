"""Dates of birth: ISO 8601, not in the future (Europe/London), not before 1870."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import RuleViolation

LONDON = ZoneInfo("Europe/London")
EARLIEST_BIRTH = dt.date(1870, 1, 1)


def today_in_london(now: dt.datetime | None = None) -> dt.date:
    """The calendar date in Europe/London at ``now`` (default: the current instant)."""
    if now is None:  # the clock read in London directly: half the cost of converting a UTC reading
        return dt.datetime.now(LONDON).date()
    return now.astimezone(LONDON).date()


def check_date_of_birth(raw: Any, *, today: dt.date | None = None) -> dt.date:
    """Parse an ISO 8601 date and check it lies between 1870-01-01 and today in London."""
    if isinstance(raw, dt.datetime) or not isinstance(raw, str | dt.date):
        raise RuleViolation("date_of_birth.format")
    if isinstance(raw, str):
        try:
            value = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise RuleViolation("date_of_birth.format") from None
    else:
        value = raw
    if value > (today or today_in_london()):
        raise RuleViolation("date_of_birth.future")
    if value < EARLIEST_BIRTH:
        raise RuleViolation("date_of_birth.too_early", earliest=EARLIEST_BIRTH.isoformat())
    return value
