"""The stored shape of PANDA's data (advanced-alchemy declarative models)."""

from typing import Any, cast

from sqlalchemy import Table

from domain.models.access import ApiKey, AuditEvent, PatientAuditKey
from domain.models.appointment import Appointment
from domain.models.directory import Clinician, Department
from domain.models.job import Job, JobChunk, JobError, JobKey
from domain.models.patient import Patient
from domain.models.reminder import OutboxMessage, Reminder
from domain.models.rollup import AppointmentDayTotal, AppointmentMonthTotal, AppointmentWeekTotal
from domain.models.schedule import Schedule, SlotHold, Unavailability
from domain.models.scheduler import SchedulerLease


def table(model: Any) -> Table:
    """A model's ``Table``, typed as such, for SQLAlchemy Core statements."""
    return cast(Table, model.__table__)


__all__ = [
    "ApiKey",
    "Appointment",
    "AppointmentDayTotal",
    "AppointmentMonthTotal",
    "AppointmentWeekTotal",
    "AuditEvent",
    "Clinician",
    "Department",
    "Job",
    "JobChunk",
    "JobError",
    "JobKey",
    "OutboxMessage",
    "Patient",
    "PatientAuditKey",
    "Reminder",
    "Schedule",
    "SchedulerLease",
    "SlotHold",
    "Unavailability",
    "table",
]
