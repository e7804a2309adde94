"""Loading the client's example data through the same validation and services as the API."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from domain.errors import DomainError
from domain.inputs import AppointmentCreate, PatientCreate, ScheduleCreate, parse_input
from domain.rules.reminders import ReminderPolicy
from domain.services.appointments import AppointmentService
from domain.services.patients import PatientService
from domain.services.schedules import ScheduleService
from domain.sql import SessionRunner

# The contract's defaults (24 h and 2 h before, outbox), for callers that pass no settings.
DEFAULT_REMINDERS = ReminderPolicy()


def example_rows(name: str) -> list[dict[str, Any]]:
    """The rows of a shipped example file (``example_patients.json``, ``example_appointments.json``)."""
    text = resources.files("panda.example_data").joinpath(name).read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


async def load_examples(
    sessions: async_sessionmaker[Any], reminders: ReminderPolicy = DEFAULT_REMINDERS
) -> dict[str, Counter[str]]:
    """Store every example patient, then every appointment; one transaction per record, like the API."""
    outcome: dict[str, Counter[str]] = {"patients": Counter(), "appointments": Counter()}
    for row in example_rows("example_patients.json"):
        async with sessions() as session, session.begin():
            outcome["patients"][await _store(PatientService(session=session).register, PatientCreate, row)] += 1
    for row in example_rows("example_appointments.json"):
        async with sessions() as session, session.begin():
            service = AppointmentService(session=session, reminders=reminders)
            outcome["appointments"][await _store(service.book, AppointmentCreate, row)] += 1
    return outcome


async def load_example_timetable(sessions: async_sessionmaker[Any]) -> Counter[str]:
    """Store the example schedules (``example_schedules.json``: clinicians of the example data, from
    today on) through the API's schedule service; loaded again, each one is a ``schedule.overlap``."""
    outcome: Counter[str] = Counter()
    for row in example_rows("example_schedules.json"):
        async with sessions() as session, session.begin():
            outcome[await _store(ScheduleService(SessionRunner(session)).create, ScheduleCreate, row)] += 1
    return outcome


async def _store(use_case: Any, model: type[Any], row: dict[str, Any]) -> str:
    try:
        await use_case(parse_input(model, row))
    except DomainError as exc:
        return exc.code
    return "stored"
