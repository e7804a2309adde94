"""The stored shape of PANDA's data (advanced-alchemy declarative models)."""

from domain.models.appointment import Appointment
from domain.models.directory import Clinician, Department
from domain.models.job import Job, JobChunk, JobError, JobKey
from domain.models.patient import Patient
from domain.models.reminder import OutboxMessage, Reminder

__all__ = [
    "Appointment",
    "Clinician",
    "Department",
    "Job",
    "JobChunk",
    "JobError",
    "JobKey",
    "OutboxMessage",
    "Patient",
    "Reminder",
]
