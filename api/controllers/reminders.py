"""``/appointments/{id}/reminders`` and ``/outbox``: what was planned, and what the outbox recorded."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter

from api.access import requires
from api.audit import audited
from api.dependencies import provide_reminders
from api.params import Limit, Offset
from api.routes import get
from domain.audit.events import Action, ResourceType
from domain.auth.access import Access
from domain.paging import parse_listing, parse_page
from domain.schemas import OutboxMessageView, Page, ReminderView
from domain.services.reminder_queries import ReminderService, parse_appointment_filter


class ReminderController(Controller):
    """Reminders are rows: planned on booking, cancelled with the appointment, sent by workers."""

    tags = ["reminders"]
    dependencies = {"reminders": Provide(provide_reminders)}

    @get(
        "/appointments/{appointment_id:str}/reminders",
        guards=[requires(Access.CLINICAL_READ)],
        opt=audited(Action.SEARCH, ResourceType.REMINDER),
    )
    async def list_reminders(
        self,
        reminders: NamedDependency[ReminderService],
        audit: NamedDependency[Any],
        appointment_id: FromPath[str],
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[ReminderView]:
        """An appointment's reminders, earliest due first, with their status and attempts."""
        page = parse_page(limit, offset)
        return await reminders.for_appointment(appointment_id, page.limit, page.offset, audit)

    @get("/outbox", guards=[requires(Access.OPERATIONS)], opt=audited(Action.SEARCH, ResourceType.OUTBOX))
    async def list_outbox(
        self,
        reminders: NamedDependency[ReminderService],
        appointment: Annotated[str | None, QueryParameter(description="Appointment id (UUID).")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[OutboxMessageView]:
        """Messages recorded by the ``outbox`` channel, newest first."""
        appointment_id, page = parse_listing(lambda: parse_appointment_filter(appointment), limit, offset)
        return await reminders.outbox(appointment_id, page.limit, page.offset)
