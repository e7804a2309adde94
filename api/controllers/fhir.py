"""``/fhir``: read-only FHIR R4 views for the NHS systems around PANDA.

Errors stay RFC 9457 problem documents (not ``OperationOutcome``), as everywhere in PANDA.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.access import requires
from api.audit import about, audited
from api.dependencies import provide_fhir
from api.guards import MULTI_VALUED_OPT
from api.routes import get
from domain.audit.events import Action, ResourceType
from domain.auth.access import Access
from domain.fhir import FHIR_JSON
from domain.services.fhir import FhirService
from domain.services.slots import parse_fhir_search


class FhirController(Controller):
    """``Patient``, ``Appointment`` and ``Schedule`` resources by id; free ``Slot`` resources by search."""

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

    @get(
        "/Schedule/{schedule_id:str}",
        media_type=FHIR_JSON,
        guards=[requires(Access.DIRECTORY_READ)],
        opt=about(ResourceType.SCHEDULE),
    )
    async def schedule(self, fhir: NamedDependency[FhirService], schedule_id: FromPath[str]) -> dict[str, Any]:
        """A clinician's schedule as a FHIR ``Schedule``; a malformed id is 404."""
        return await fhir.schedule(schedule_id)

    @get(
        "/Slot",
        media_type=FHIR_JSON,
        guards=[requires(Access.DIRECTORY_READ)],
        opt={MULTI_VALUED_OPT: ("start",), **about(ResourceType.SLOT)},
    )
    async def slots(
        self,
        fhir: NamedDependency[FhirService],
        # Documented as required; checked in the domain, so a missing one is named with every other bad field.
        schedule: Annotated[str | None, QueryParameter(required=True, description="The Schedule's id.")] = None,
        start: Annotated[
            list[str] | None,
            QueryParameter(
                required=True, description="Twice: `ge{date}` and `lt{date}` (London dates or timestamps), ≤ 31 days."
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The schedule's free slots as a ``searchset`` Bundle of ``Slot`` resources (``status`` ``free``)."""
        return await fhir.slots(parse_fhir_search(schedule, start or []))
