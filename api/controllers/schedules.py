"""``/schedules`` and ``/unavailability``: when clinicians can be booked (SPEC §10)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.access import requires
from api.audit import about
from api.dependencies import provide_schedules, provide_unavailability
from api.guards import require_json
from api.openapi import PROBLEMS_OPT
from api.params import Limit, Offset
from api.routes import delete, get, patch, post
from domain.audit.events import ResourceType
from domain.auth.access import Access
from domain.inputs import ScheduleCreate, ScheduleUpdate, UnavailabilityCreate
from domain.paging import parse_listing
from domain.schemas import Page, ScheduleView, UnavailabilityView
from domain.services.schedules import ScheduleService, parse_schedule_filter
from domain.services.unavailability import UnavailabilityService, parse_unavailability_filter

ClinicianFilter = Annotated[str | None, QueryParameter(description="Clinician's name, case-insensitive.")]
DepartmentFilter = Annotated[str | None, QueryParameter(description="Department's name, case-insensitive.")]


class ScheduleController(Controller):
    """Clinicians' recurring sessions, in Europe/London wall-clock time."""

    path = "/schedules"
    opt = about(ResourceType.SCHEDULE)  # a refused request's event names it
    tags = ["schedules"]
    before_request = require_json  # type: ignore[assignment]  # Litestar calls it unbound
    dependencies = {"schedules": provide_schedules}

    @post("/", status_code=HTTP_201_CREATED, guards=[requires(Access.SCHEDULE_WRITE)], opt={PROBLEMS_OPT: [409]})
    async def create_schedule(
        self, schedules: NamedDependency[ScheduleService], data: JSONBody[ScheduleCreate]
    ) -> Response[ScheduleView]:
        """Add a session; one clashing with another of the clinician's is 409 ``schedule.overlap``."""
        view = await schedules.create(data)
        return Response(view, status_code=HTTP_201_CREATED, headers={"Location": f"/schedules/{view.id}"})

    @get("/", guards=[requires(Access.DIRECTORY_READ)])
    async def list_schedules(
        self,
        schedules: NamedDependency[ScheduleService],
        clinician: ClinicianFilter = None,
        department: DepartmentFilter = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[ScheduleView]:
        """Schedules by clinician and start time."""
        filters, page = parse_listing(lambda: parse_schedule_filter(clinician, department), limit, offset)
        return await schedules.search(filters, page.limit, page.offset)

    @get("/{schedule_id:str}", guards=[requires(Access.DIRECTORY_READ)])
    async def get_schedule(
        self, schedules: NamedDependency[ScheduleService], schedule_id: FromPath[str]
    ) -> ScheduleView:
        """Read one schedule."""
        return await schedules.read(schedule_id)

    @patch("/{schedule_id:str}", guards=[requires(Access.SCHEDULE_WRITE)], opt={PROBLEMS_OPT: [409]})
    async def update_schedule(
        self, schedules: NamedDependency[ScheduleService], schedule_id: FromPath[str], data: JSONBody[ScheduleUpdate]
    ) -> ScheduleView:
        """Change a schedule; the result must clash with no other session of the clinician (409)."""
        return await schedules.amend(schedule_id, data)

    @delete("/{schedule_id:str}", guards=[requires(Access.SCHEDULE_WRITE)])
    async def delete_schedule(self, schedules: NamedDependency[ScheduleService], schedule_id: FromPath[str]) -> None:
        """Delete a schedule; appointments already booked in it stay."""
        await schedules.remove(schedule_id)


class UnavailabilityController(Controller):
    """Leave, training, bank holidays: time a clinician cannot be booked."""

    path = "/unavailability"
    opt = about(ResourceType.SCHEDULE)  # a refused request's event names it
    tags = ["schedules"]
    before_request = require_json  # type: ignore[assignment]  # Litestar calls it unbound
    dependencies = {"unavailability": provide_unavailability}

    @post("/", status_code=HTTP_201_CREATED, guards=[requires(Access.SCHEDULE_WRITE)])
    async def create_unavailability(
        self, unavailability: NamedDependency[UnavailabilityService], data: JSONBody[UnavailabilityCreate]
    ) -> Response[UnavailabilityView]:
        """Record ``[from, to)`` when the clinician cannot be booked."""
        view = await unavailability.create(data)
        return Response(view, status_code=HTTP_201_CREATED, headers={"Location": f"/unavailability/{view.id}"})

    @get("/", guards=[requires(Access.DIRECTORY_READ)])
    async def list_unavailability(
        self,
        unavailability: NamedDependency[UnavailabilityService],
        clinician: ClinicianFilter = None,
        since: Annotated[str | None, QueryParameter(name="from", description="Ends after this instant.")] = None,
        until: Annotated[str | None, QueryParameter(name="to", description="Starts before this instant.")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[UnavailabilityView]:
        """Unavailability overlapping ``[from, to)``, by start."""
        filters, page = parse_listing(lambda: parse_unavailability_filter(clinician, since, until), limit, offset)
        return await unavailability.search(filters, page.limit, page.offset)

    @delete("/{unavailability_id:str}", guards=[requires(Access.SCHEDULE_WRITE)])
    async def delete_unavailability(
        self, unavailability: NamedDependency[UnavailabilityService], unavailability_id: FromPath[str]
    ) -> None:
        """Delete a record of unavailability."""
        await unavailability.remove(unavailability_id)
