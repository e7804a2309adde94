"""``/appointments``: book, read, reschedule, change status, remove."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.exceptions import SerializationException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.access import require, requires
from api.audit import audited
from api.dependencies import open_appointments
from api.guards import require_json
from api.openapi import PROBLEMS_OPT
from api.params import Limit, Offset
from api.routes import delete, get, patch, post
from domain.audit.events import Action, ResourceType
from domain.auth.access import Access, access_for_appointment_change
from domain.inputs import AppointmentCreate, AppointmentUpdate
from domain.paging import parse_listing
from domain.schemas import AppointmentView, Page
from domain.services.appointment_queries import parse_filter


async def _json_and_the_fields_it_may_change(request: Request[Any, Any, Any]) -> None:
    """``require_json``, then who may make this change, from the fields the body names before any
    is validated: a clinician naming a field other than ``status`` is refused (403) whatever its
    value, not told what is wrong with the value (400)."""
    await require_json(request)
    try:
        fields = await request.json()  # decoded once: the body parameter reuses it
    except SerializationException:
        return  # not JSON: the body's own 400 follows
    if isinstance(fields, dict):
        require(request, access_for_appointment_change(frozenset(fields)))


def _about_appointment(action: Action) -> dict[str, Any]:
    """The audit declaration of a route about the appointment its path names."""
    return audited(action, ResourceType.APPOINTMENT, id_param="appointment_id")


class AppointmentController(Controller):
    """Appointments, identified by UUID."""

    path = "/appointments"
    tags = ["appointments"]
    before_request = require_json  # type: ignore[assignment]  # Litestar calls it unbound

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        guards=[requires(Access.BOOKING_WRITE)],
        opt={PROBLEMS_OPT: [409], **audited(Action.CREATE, ResourceType.APPOINTMENT)},
    )
    async def create_appointment(
        self, request: Request[Any, Any, Any], data: JSONBody[AppointmentCreate]
    ) -> Response[AppointmentView]:
        """Book an appointment (or record a historical one); overlaps and duplicate ids are 409."""
        async with open_appointments(request) as appointments:
            view = await appointments.book(data)
        return Response(view, status_code=HTTP_201_CREATED, headers={"Location": f"/appointments/{view.id}"})

    @get("/", guards=[requires(Access.CLINICAL_READ)], opt=audited(Action.SEARCH, ResourceType.APPOINTMENT))
    async def list_appointments(
        self,
        request: Request[Any, Any, Any],
        patient: Annotated[str | None, QueryParameter(description="NHS number.")] = None,
        clinician: Annotated[str | None, QueryParameter(description="Name, case-insensitive.")] = None,
        department: Annotated[str | None, QueryParameter(description="Name, case-insensitive.")] = None,
        status: Annotated[str | None, QueryParameter(description="active, attended, cancelled or missed.")] = None,
        start_from: Annotated[str | None, QueryParameter(name="from", description="Start ≥ this instant.")] = None,
        start_to: Annotated[str | None, QueryParameter(name="to", description="Start < this instant.")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[AppointmentView]:
        """List appointments by start time; an ended ``active`` one is reported as ``missed``."""
        filters, page = parse_listing(
            lambda: parse_filter(patient, clinician, department, status, start_from, start_to), limit, offset
        )
        async with open_appointments(request) as appointments:
            return await appointments.search(filters, page.limit, page.offset)

    @get("/{appointment_id:str}", guards=[requires(Access.CLINICAL_READ)], opt=_about_appointment(Action.READ))
    async def get_appointment(self, request: Request[Any, Any, Any], appointment_id: FromPath[str]) -> AppointmentView:
        """Read one appointment."""
        async with open_appointments(request) as appointments:
            return await appointments.read(appointment_id)

    @patch(
        "/{appointment_id:str}",
        guards=[requires(Access.STATUS_CHANGE)],
        before_request=_json_and_the_fields_it_may_change,
        opt={PROBLEMS_OPT: [409], **_about_appointment(Action.UPDATE)},
    )
    async def update_appointment(
        self,
        request: Request[Any, Any, Any],
        appointment_id: FromPath[str],
        data: JSONBody[AppointmentUpdate],
    ) -> AppointmentView:
        """Reschedule or change the status, as the status rules allow (409 otherwise).

        Clinicians may change the status only; any other field needs a booking role (403, checked
        before the body is validated).
        """
        async with open_appointments(request) as appointments:
            return await appointments.amend(appointment_id, data)

    @delete("/{appointment_id:str}", guards=[requires(Access.BOOKING_WRITE)], opt=_about_appointment(Action.DELETE))
    async def delete_appointment(self, request: Request[Any, Any, Any], appointment_id: FromPath[str]) -> None:
        """Remove an appointment entered by mistake; its unsent reminders are cancelled."""
        async with open_appointments(request) as appointments:
            await appointments.remove(appointment_id)
