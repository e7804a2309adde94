"""Dependency providers: a service per request, on the request's session."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from domain.services.appointments import AppointmentService
from domain.services.directory import ClinicianService, DepartmentService
from domain.services.patients import PatientService


async def provide_patients(db_session: NamedDependency[AsyncSession]) -> PatientService:
    """Patient use cases on this request's transaction."""
    return PatientService(session=db_session)


async def provide_appointments(db_session: NamedDependency[AsyncSession]) -> AppointmentService:
    """Appointment use cases on this request's transaction."""
    return AppointmentService(session=db_session)


async def provide_clinicians(db_session: NamedDependency[AsyncSession]) -> ClinicianService:
    """Clinician directory on this request's transaction."""
    return ClinicianService(session=db_session)


async def provide_departments(db_session: NamedDependency[AsyncSession]) -> DepartmentService:
    """Department directory on this request's transaction."""
    return DepartmentService(session=db_session)
