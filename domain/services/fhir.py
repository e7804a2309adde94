"""Read-only FHIR R4 views of patients and appointments.

A malformed identifier (bad NHS number checksum, not a UUID) names nothing: 404, like the rest
of the API. Errors are PANDA's localised problem documents rather than FHIR ``OperationOutcome``
resources, so a client handles every error of PANDA the same way.
"""

from __future__ import annotations

from typing import Any

from domain.audit.events import AuditTrail, concerns
from domain.clock import utcnow
from domain.errors import NotFound
from domain.fhir import appointment_resource, patient_resource, schedule_resource, slot_bundle
from domain.rules.ids import parse_uuid
from domain.rules.schedules import london_date
from domain.services.appointment_queries import fetch_appointment
from domain.services.appointments import parse_appointment_id
from domain.services.patients import PatientService
from domain.services.schedules import SCHEDULE_BY_ID
from domain.services.slots import SlotSearch, SlotService
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

    async def schedule(self, raw_id: str) -> dict[str, Any]:
        """A schedule as a FHIR ``Schedule``; unknown or malformed ids are 404."""
        row = await self.sql.fetch_one(SCHEDULE_BY_ID, id=parse_uuid(raw_id, "schedule.not_found"))
        if row is None:
            raise NotFound("schedule.not_found")
        return schedule_resource(row, london_date(utcnow()))

    async def slots(self, search: SlotSearch) -> dict[str, Any]:
        """A schedule's free slots as a ``searchset`` Bundle (empty for an unknown schedule)."""
        free = await SlotService(self.sql).free(search)
        return slot_bundle(str(search.schedule), [(start, end) for start, _key, end, _row in free])

    async def appointment(self, raw_id: str) -> dict[str, Any]:
        """The appointment as a FHIR ``Appointment``; an erased patient is no longer named."""
        row = await fetch_appointment(self.sql, parse_appointment_id(raw_id))
        concerns(self.audit, resource_id=str(row["id"]), patient=row["nhs_number"])
        return appointment_resource(row, utcnow())
