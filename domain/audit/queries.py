"""Reading the audit trail: ``GET /audit`` and an appointment's history (auditor and admin only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, bindparam, select

from domain.audit.events import AUDIT_EVENT, Action, ResourceType
from domain.audit.fhir import audit_event_resource
from domain.audit.sealing import keys_of, unseal
from domain.errors import FieldChecker, NotFound
from domain.models import Appointment, table
from domain.paging import fetch_page
from domain.rules import check_search_text, normalise_nhs_number
from domain.rules.choices import parse_choice
from domain.rules.ids import parse_uuid
from domain.rules.times import parse_aware_datetime, to_utc_iso
from domain.schemas import Page
from domain.sql import Query, SqlRunner

APPOINTMENT = table(Appointment)
APPOINTMENT_EXISTS = Query(select(APPOINTMENT.c.id).where(APPOINTMENT.c.id == bindparam("id")))


class AuditEventView(msgspec.Struct):
    """One audit event as ``GET /audit`` shows it."""

    id: str
    at: str
    actor: str
    roles: list[str]
    action: str
    resource_type: str | None
    resource_id: str | None
    patient: str | None
    outcome: int
    request_id: str | None
    changes: dict[str, Any] | None


class HistoryEntryView(msgspec.Struct):
    """One event of an appointment's history."""

    at: str
    actor: str
    action: str
    changes: dict[str, Any] | None


@dataclass(frozen=True)
class AuditFilter:
    """The filters of ``GET /audit``; each is optional."""

    patient: str | None = None
    actor: str | None = None
    action: Action | None = None
    resource_id: str | None = None
    resource_type: ResourceType | None = None
    start_from: dt.datetime | None = None
    start_to: dt.datetime | None = None


def parse_audit_filter(
    patient: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    start_from: str | None = None,
    start_to: str | None = None,
    resource_id: str | None = None,
) -> AuditFilter:
    """Validate raw filter values; every bad one is named in one 400."""
    checker = FieldChecker()
    result = AuditFilter(
        patient=checker.check("patient", patient, normalise_nhs_number),
        # Free text, checked only for what no stored value holds (PostgreSQL refuses a NUL: a 500).
        actor=checker.check("actor", actor, lambda v: check_search_text(v, rule="actor")),
        resource_id=checker.check(
            "resource_id", resource_id, lambda v: check_search_text(v.strip(), rule="resource_id")
        ),
        action=checker.check("action", action, lambda v: parse_choice(Action, v, "action.invalid")),
        resource_type=checker.check(
            "resource_type", resource_type, lambda v: parse_choice(ResourceType, v, "resource_type.invalid")
        ),
        start_from=checker.check("from", start_from, lambda v: parse_aware_datetime(v, rule="from")),
        start_to=checker.check("to", start_to, lambda v: parse_aware_datetime(v, rule="to")),
    )
    checker.check_range_order(result.start_from, result.start_to)
    checker.raise_if_any()
    return result


def _conditions(filters: AuditFilter) -> list[ColumnElement[bool]]:
    columns = AUDIT_EVENT.c
    conditions: list[ColumnElement[bool]] = []
    if filters.patient is not None:
        conditions.append(columns.patient == filters.patient)
    if filters.actor is not None:
        conditions.append(columns.actor == filters.actor)
    if filters.action is not None:
        conditions.append(columns.action == filters.action.value)
    if filters.resource_type is not None:
        conditions.append(columns.resource_type == filters.resource_type.value)
    if filters.resource_id is not None:
        conditions.append(columns.resource_id == filters.resource_id)
    if filters.start_from is not None:
        conditions.append(columns.at >= filters.start_from)
    if filters.start_to is not None:
        conditions.append(columns.at < filters.start_to)
    return conditions


async def search_events(sql: SqlRunner, filters: AuditFilter, limit: int, offset: int) -> Page[AuditEventView]:
    """Events matching the filters, newest first."""
    ordered = select(AUDIT_EVENT).order_by(AUDIT_EVENT.c.at.desc(), AUDIT_EVENT.c.id.desc())
    rows, total = await fetch_page(sql, ordered, AUDIT_EVENT, _conditions(filters), limit, offset)
    # Only a patient's own changes are sealed (domain/audit/sealing.py): only theirs need a key.
    sealed_for = (r["patient"] for r in rows if r["changes"] and r["resource_type"] == ResourceType.PATIENT.value)
    keys = await keys_of(sql, sealed_for)
    return Page(items=[audit_event_view(r, keys) for r in rows], total=total, limit=limit, offset=offset)


async def appointment_history(sql: SqlRunner, raw_id: str, limit: int, offset: int) -> Page[HistoryEntryView]:
    """An existing appointment's events, oldest first (a deleted one's stay in ``GET /audit?resource_id=``)."""
    appointment_uuid = parse_uuid(raw_id, "appointment.not_found")
    appointment_id = str(appointment_uuid)
    if await sql.fetch_one(APPOINTMENT_EXISTS, id=appointment_uuid) is None:
        raise NotFound("appointment.not_found")
    conditions = [
        AUDIT_EVENT.c.resource_type == ResourceType.APPOINTMENT.value,
        AUDIT_EVENT.c.resource_id == appointment_id,
    ]
    ordered = select(AUDIT_EVENT).order_by(AUDIT_EVENT.c.at, AUDIT_EVENT.c.id)
    rows, total = await fetch_page(sql, ordered, AUDIT_EVENT, conditions, limit, offset)
    items = [  # an appointment's changes are never sealed: no key is needed to read them
        HistoryEntryView(at=to_utc_iso(r["at"]), actor=r["actor"], action=r["action"], changes=_changes(r, {}))
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def fhir_audit_event(sql: SqlRunner, raw_id: str) -> dict[str, Any]:
    """One event as a FHIR ``AuditEvent``; an unknown or malformed id is 404."""
    event_id = parse_uuid(raw_id, "audit_event.not_found")
    row = await sql.fetch_one(select(AUDIT_EVENT).where(AUDIT_EVENT.c.id == event_id))
    if row is None:
        raise NotFound("audit_event.not_found")
    return audit_event_resource(row)


def audit_event_view(row: Mapping[str, Any], keys: Mapping[str, bytes]) -> AuditEventView:
    """An ``audit_event`` row as the API shows it (``keys``: the patients' audit keys, for sealed changes)."""
    return AuditEventView(
        id=str(row["id"]),
        at=to_utc_iso(row["at"]),
        actor=row["actor"],
        roles=[role for role in row["roles"].split(",") if role],
        action=row["action"],
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        patient=row["patient"],
        outcome=int(row["outcome"]),
        request_id=row["request_id"],
        changes=_changes(row, keys),
    )


def _changes(row: Mapping[str, Any], keys: Mapping[str, bytes]) -> dict[str, Any] | None:
    text = row["changes"]
    if not text:
        return None
    return unseal(msgspec.json.decode(text), row["patient"], keys.get(row["patient"] or ""))
