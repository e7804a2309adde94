"""``/fhir``: read-only FHIR R4 views for the NHS systems around PANDA.

Errors stay RFC 9457 problem documents (not ``OperationOutcome``), as everywhere in PANDA.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from api.access import requires
from api.audit import audited
from api.dependencies import provide_fhir
from domain.audit.events import Action, ResourceType
from domain.auth.access import Access
from domain.fhir import FHIR_JSON
from domain.services.fhir import FhirService


class FhirController(Controller):
    """``Patient`` and ``Appointment`` resources, by NHS number and by id."""

    path = "/fhir"
    tags = ["fhir"]
    dependencies = {"fhir": provide_fhir}

    @get(
        "/Patient/{nhs_number:str}",
        media_type=FHIR_JSON,
        guards=[requires(Access.CLINICAL_READ)],
        opt=audited(Action.READ, ResourceType.PATIENT, id_param="nhs_number", patient_param="nhs_number"),
    )
    async def patient(self, fhir: NamedDependency[FhirService], nhs_number: FromPath[str]) -> dict[str, Any]:
        """The patient as a FHIR ``Patient``; erased, unknown or malformed numbers are 404."""
        return await fhir.patient(nhs_number)

    @get(
        "/Appointment/{appointment_id:str}",
        media_type=FHIR_JSON,
        guards=[requires(Access.CLINICAL_READ)],
        opt=audited(Action.READ, ResourceType.APPOINTMENT, id_param="appointment_id"),
    )
    async def appointment(self, fhir: NamedDependency[FhirService], appointment_id: FromPath[str]) -> dict[str, Any]:
        """The appointment as a FHIR ``Appointment``; a malformed id is 404."""
        return await fhir.appointment(appointment_id)
