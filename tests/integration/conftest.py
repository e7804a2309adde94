"""Service-level helpers: one transaction per use case, as the API and the loader run them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.inputs import AppointmentCreate, PatientCreate, parse_input
from domain.rules.reminders import ReminderPolicy
from domain.schemas import AppointmentView, PatientView
from domain.services.appointments import AppointmentService
from domain.services.patients import PatientService


class UseCases:
    """Run each use case in its own committed transaction (rolled back if it raises)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction that commits when the block succeeds."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def patients(self) -> AsyncIterator[PatientService]:
        """The patient service on a fresh transaction."""
        async with self.session() as session:
            yield PatientService(session=session)

    @asynccontextmanager
    async def appointments(self) -> AsyncIterator[AppointmentService]:
        """The appointment service on a fresh transaction."""
        async with self.session() as session:
            yield AppointmentService(session=session, reminders=ReminderPolicy())

    async def register(self, row: dict[str, Any]) -> PatientView:
        """Validate ``row`` as the API does and register the patient."""
        async with self.patients() as service:
            return await service.register(parse_input(PatientCreate, row))

    async def book(self, row: dict[str, Any]) -> AppointmentView:
        """Validate ``row`` as the API does and book the appointment."""
        async with self.appointments() as service:
            return await service.book(parse_input(AppointmentCreate, row))


@pytest.fixture
def use_cases(sessions: async_sessionmaker[AsyncSession]) -> UseCases:
    """Services on the backend under test, one transaction per call."""
    return UseCases(sessions)
