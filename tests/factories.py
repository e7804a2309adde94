"""Test data builders shared by the HTTP and service tests: valid NHS numbers, bodies, instants."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

from nhs_number import calculate_checksum
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.models import Appointment, Clinician, Department, Patient, Reminder


def valid_nhs_numbers(start: int = 400_000_000) -> Iterator[str]:
    """Endless distinct NHS numbers with a correct modulus-11 check digit."""
    for base in itertools.count(start):
        digits = f"{base:09d}"
        check = calculate_checksum(digits)
        if check is not None and check < 10:
            yield f"{digits}{check}"


def nhs_number(index: int = 0) -> str:
    """The ``index``-th valid NHS number of a fixed series (stable across runs)."""
    return next(itertools.islice(valid_nhs_numbers(), index, None))


def bad_checksum(number: str) -> str:
    """The same number with a wrong check digit."""
    return number[:9] + str((int(number[9]) + 1) % 10)


def spaced(number: str) -> str:
    """The ``3 3 4`` display form, ``943 476 5919``."""
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def dashed(number: str) -> str:
    """The ``943-476-5919`` form."""
    return f"{number[:3]}-{number[3:6]}-{number[6:]}"


def now() -> dt.datetime:
    """The current instant, whole seconds, UTC."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso(value: dt.datetime) -> str:
    """ISO 8601 with offset, as a client sends it."""
    return value.isoformat()


def patient_body(number: str, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /patients`` body."""
    body = {"nhs_number": number, "name": "Test Patient", "date_of_birth": "1980-05-17", "postcode": "N6 2FA"}
    body.update(overrides)
    return body


def appointment_body(patient: str, start: dt.datetime, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /appointments`` body starting at ``start`` (30 minutes, active)."""
    body = {
        "patient": patient,
        "status": "active",
        "time": iso(start),
        "duration": "30m",
        "clinician": "Dr Jones",
        "department": "cardiology",
        "postcode": "N6 2FA",
    }
    body.update(overrides)
    return body


def parse_instant(text: str) -> dt.datetime:
    """Parse a returned timestamp, insisting on an explicit UTC offset."""
    value = dt.datetime.fromisoformat(text)
    assert value.utcoffset() == dt.timedelta(0), text
    assert text.endswith("+00:00"), text
    return value


async def snapshot(engine: AsyncEngine) -> dict[str, list[str]]:
    """Every row of every business table, to prove a refused request changed nothing at all."""
    tables: dict[str, list[str]] = {}
    async with engine.connect() as connection:
        for model in (Patient, Appointment, Clinician, Department, Reminder):
            rows = (await connection.execute(select(model.__table__))).all()
            tables[model.__tablename__] = sorted(repr(tuple(row)) for row in rows)
    return tables
