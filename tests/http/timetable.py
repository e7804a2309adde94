"""Helpers for schedule, slot and hold tests: London dates ahead, and bodies that fit them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def london_day(days_ahead: int) -> dt.date:
    """The London date ``days_ahead`` days from today."""
    return dt.datetime.now(LONDON).date() + dt.timedelta(days=days_ahead)


def london(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A London wall-clock time on ``day`` as an aware datetime."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def schedule_body(clinician: str = "Dr Slot", **overrides: Any) -> dict[str, Any]:
    """Every day, 09:00–12:00 London, 30-minute slots, from today on."""
    body: dict[str, Any] = {
        "clinician": clinician,
        "department": "Cardiology",
        "postcode": "N6 2FA",
        "weekdays": WEEK,
        "start": "09:00",
        "end": "12:00",
        "slot": "30m",
    }
    body.update(overrides)
    return body


async def create_schedule(client: Any, **overrides: Any) -> dict[str, Any]:
    """POST a schedule and return its view (fails the test unless 201)."""
    response = await client.post("/schedules", json=schedule_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def day_window(day: dt.date) -> dict[str, str]:
    """``from``/``to`` covering one London day."""
    return {"from": london(day, 0).isoformat(), "to": london(day + dt.timedelta(days=1), 0).isoformat()}
