"""``/patients``: register, find, correct and erase patients."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.access import requires
from api.audit import audited
from api.dependencies import open_appointments, open_patients
from api.guards import require_json
from api.openapi import PROBLEMS_OPT
from api.params import Limit, Offset
from api.routes import delete, get, patch, post
from domain.audit.events import Action, ResourceType
from domain.auth.access import Access
from domain.inputs import PatientCreate, PatientUpdate
from domain.paging import parse_listing, parse_page
from domain.schemas import AppointmentView, Page, PatientView
from domain.services.patients import parse_patient_filter


def _about_patient(action: Action) -> dict[str, Any]:
    """The audit declaration of a route about the patient its path names."""
    return audited(action, ResourceType.PATIENT, id_param="nhs_number", patient_param="nhs_number")


class PatientController(Controller):
    """Patients, identified by NHS number in any common format."""

    path = "/patients"
    tags = ["patients"]
    before_request = require_json  # type: ignore[assignment]  # Litestar calls it unbound

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        guards=[requires(Access.BOOKING_WRITE)],
        opt={PROBLEMS_OPT: [409], **audited(Action.CREATE, ResourceType.PATIENT)},
    )
    async def create_patient(
        self, request: Request[Any, Any, Any], data: JSONBody[PatientCreate]
    ) -> Response[PatientView]:
        """Register a patient; an NHS number already known is a conflict (409)."""
        async with open_patients(request) as patients:
            view = await patients.register(data)
        return Response(view, status_code=HTTP_201_CREATED, headers={"Location": f"/patients/{view.nhs_number}"})

    @get("/", guards=[requires(Access.CLINICAL_READ)], opt=audited(Action.SEARCH, ResourceType.PATIENT))
    async def list_patients(
        self,
        request: Request[Any, Any, Any],
        name: Annotated[str | None, QueryParameter(description="Substring, case-insensitive, any script.")] = None,
        postcode: Annotated[str | None, QueryParameter(description="Exact, after coercion.")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[PatientView]:
        """List patients, optionally by part of the name or by postcode."""
        filters, page = parse_listing(lambda: parse_patient_filter(name, postcode), limit, offset)
        async with open_patients(request) as patients:
            return await patients.search(filters, page.limit, page.offset)

    @get("/{nhs_number:str}", guards=[requires(Access.CLINICAL_READ)], opt=_about_patient(Action.READ))
    async def get_patient(self, request: Request[Any, Any, Any], nhs_number: FromPath[str]) -> PatientView:
        """Read one patient."""
        async with open_patients(request) as patients:
            return await patients.read(nhs_number)

    @patch("/{nhs_number:str}", guards=[requires(Access.BOOKING_WRITE)], opt=_about_patient(Action.UPDATE))
    async def update_patient(
        self, request: Request[Any, Any, Any], nhs_number: FromPath[str], data: JSONBody[PatientUpdate]
    ) -> PatientView:
        """Change some of a patient's details; the NHS number cannot change (400)."""
        async with open_patients(request) as patients:
            return await patients.amend(nhs_number, data)

    @delete("/{nhs_number:str}", guards=[requires(Access.ERASE)], opt=_about_patient(Action.ERASE))
    async def erase_patient(self, request: Request[Any, Any, Any], nhs_number: FromPath[str]) -> None:
        """Erase a patient's personal data (GDPR); unfinished appointments are cancelled."""
        async with open_patients(request) as patients:
            await patients.erase(nhs_number)

    @get(
        "/{nhs_number:str}/appointments",
        guards=[requires(Access.CLINICAL_READ)],
        opt=audited(Action.SEARCH, ResourceType.APPOINTMENT, patient_param="nhs_number"),
    )
    async def list_patient_appointments(
        self,
        request: Request[Any, Any, Any],
        nhs_number: FromPath[str],
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[AppointmentView]:
        """The patient's appointments, by start time."""
        page = parse_page(limit, offset)
        async with open_appointments(request) as appointments:
            return await appointments.of_patient(nhs_number, page.limit, page.offset)
