"""``/audit`` and ``/appointments/{id}/history``: the audit trail, for auditors and admins only."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from api.access import requires
from api.params import Limit, Offset
from api.routes import get
from domain.audit.queries import (
    AuditEventView,
    HistoryEntryView,
    appointment_history,
    fhir_audit_event,
    parse_audit_filter,
    search_events,
)
from domain.auth.access import Access
from domain.fhir import FHIR_JSON
from domain.paging import parse_listing, parse_page
from domain.schemas import Page


class AuditController(Controller):
    """Who saw or changed what, and who was refused: events are appended, never changed."""

    tags = ["audit"]

    @get("/audit", guards=[requires(Access.AUDIT)])
    async def list_audit_events(
        self,
        sql: NamedDependency[Any],
        patient: Annotated[str | None, QueryParameter(description="NHS number the events concern.")] = None,
        actor: Annotated[str | None, QueryParameter(description="An API key's name or a token's subject.")] = None,
        action: Annotated[str | None, QueryParameter(description="create, read, search, update, …")] = None,
        resource_type: Annotated[str | None, QueryParameter(description="Patient, Appointment, …")] = None,
        resource_id: Annotated[
            str | None, QueryParameter(description="The resource's id (a deleted appointment's too).")
        ] = None,
        start_from: Annotated[str | None, QueryParameter(name="from", description="At ≥ this instant.")] = None,
        start_to: Annotated[str | None, QueryParameter(name="to", description="At < this instant.")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> Page[AuditEventView]:
        """Audit events, newest first, filtered by patient, actor, action, resource type and id, and time."""
        filters, page = parse_listing(
            lambda: parse_audit_filter(patient, actor, action, resource_type, start_from, start_to, resource_id),
            limit,
            offset,
        )
        return await search_events(sql, filters, page.limit, page.offset)

    @get("/appointments/{appointment_id:str}/history", guards=[requires(Access.AUDIT)])
    async def appointment_history(
        self, sql: NamedDependency[Any], appointment_id: FromPath[str], limit: Limit = None, offset: Offset = None
    ) -> Page[HistoryEntryView]:
        """An appointment's events, oldest first: who created, read and changed it (field by field)."""
        page = parse_page(limit, offset)
        return await appointment_history(sql, appointment_id, page.limit, page.offset)

    @get("/fhir/AuditEvent/{event_id:str}", media_type=FHIR_JSON, guards=[requires(Access.AUDIT)])
    async def fhir_audit_event(self, sql: NamedDependency[Any], event_id: FromPath[str]) -> dict[str, Any]:
        """One audit event as a FHIR R4 ``AuditEvent`` (the id is the event's id in ``GET /audit``)."""
        return await fhir_audit_event(sql, event_id)
