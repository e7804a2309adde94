"""Read-only FHIR R4 views of patients and appointments.

A malformed identifier (bad NHS number checksum, not a UUID) names nothing: 404, like the rest
of the API. Errors are PANDA's localised problem documents rather than FHIR ``OperationOutcome``
resources, so a client handles every error of PANDA the same way.
"""

from __future__ import annotations

from typing import Any

from domain.audit.events import AuditTrail, concerns
from domain.clock import utcnow
from domain.fhir import appointment_resource, patient_resource
from domain.services.appointment_queries import fetch_appointment
from domain.services.appointments import parse_appointment_id
from domain.services.patients import PatientService
from domain.sql import SqlRunner


class FhirService:
    """FHIR resources built from the same reads as the JSON API."""

    def __init__(self, sql: SqlRunner, audit: AuditTrail | None = None) -> None:
        self.sql = sql
        self.audit = audit  # the request's audit event (None outside a request)

    async def patient(self, nhs_number: str) -> dict[str, Any]:
        """The patient as a FHIR ``Patient``; an erased or unknown one is 404."""
        row = await PatientService(sql=self.sql).find_row(nhs_number)
        concerns(self.audit, resource_id=row["nhs_number"], patient=row["nhs_number"])
        return patient_resource(row)

    async def appointment(self, raw_id: str) -> dict[str, Any]:
        """The appointment as a FHIR ``Appointment``; an erased patient is no longer named."""
        row = await fetch_appointment(self.sql, parse_appointment_id(raw_id))
        concerns(self.audit, resource_id=str(row["id"]), patient=row["nhs_number"])
        return appointment_resource(row, utcnow())
