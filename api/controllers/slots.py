"""``/slots``: free times to offer patients, and short holds while they choose (SPEC §10)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from api.access import requires
from api.audit import about
from api.dependencies import provide_slots
from api.guards import require_json
from api.openapi import PROBLEMS_OPT
from api.params import Limit, Offset
from api.routes import delete, get, post
from domain.audit.events import ResourceType
from domain.auth.access import Access
from domain.inputs import HoldCreate
from domain.paging import parse_listing
from domain.schemas import HoldView, Page, SlotView
from domain.services.slots import SlotService, parse_search


class SlotController(Controller):
    """Free slots of clinicians' sessions, and holds on them."""

    path = "/slots"
    opt = about(ResourceType.SLOT)  # a refused request's event names it
    tags = ["slots"]
    before_request = require_json  # type: ignore[assignment]  # Litestar calls it unbound
    dependencies = {"slots": provide_slots}

    @get("/", guards=[requires(Access.DIRECTORY_READ)])
    async def list_slots(
        self,
        slots: NamedDependency[SlotService],
        department: Annotated[str | None, QueryParameter(description="Department's name.")] = None,
        clinician: Annotated[str | None, QueryParameter(description="Clinician's name.")] = None,
        postcode: Annotated[str | None, QueryParameter(description="The site's postcode.")] = None,
        # Documented as required; checked in the domain, so a missing one is named with every other bad field.
        since: Annotated[
            str | None, QueryParameter(name="from", required=True, description="Start ≥ this instant, with its offset.")
        ] = None,
        until: Annotated[
            str | None, QueryParameter(name="to", required=True, description="Start < this instant, ≤ 31 days on.")
        ] = None,
        duration: Annotated[str | None, QueryParameter(description="Length wanted (default: the slot's).")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[SlotView]:
        """Free slots by start, then clinician: at least one of ``department``/``clinician``; ``from``
        and ``to`` at most 31 days apart (400 ``range.too_long``)."""
        search, page = parse_listing(
            lambda: parse_search(department, clinician, postcode, since, until, duration), limit, offset
        )
        return await slots.search(search, page.limit, page.offset)

    @post("/holds", status_code=HTTP_201_CREATED, guards=[requires(Access.BOOKING_WRITE)], opt={PROBLEMS_OPT: [409]})
    async def create_hold(self, slots: NamedDependency[SlotService], data: JSONBody[HoldCreate]) -> Response[HoldView]:
        """Hold a slot for ``SLOT_HOLD_SECONDS``; booked or held already is 409 ``slot.taken``.

        Book it with ``POST /appointments`` and ``"hold": id``.
        """
        view = await slots.hold(data)
        return Response(view, status_code=HTTP_201_CREATED, headers={"Location": f"/slots/holds/{view.id}"})

    @delete("/holds/{hold_id:str}", guards=[requires(Access.BOOKING_WRITE)])
    async def delete_hold(self, slots: NamedDependency[SlotService], hold_id: FromPath[str]) -> None:
        """Release a hold."""
        await slots.release(hold_id)
