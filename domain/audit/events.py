"""Audit events: what they record, and how a use case records the event of its request.

An event of a change is inserted by the use case inside the change's own transaction, so there
is no change without its event. A read only notes what it concerned; the API writes its event
before the response leaves (``api/audit.py``), and so it does for a request that failed or was
refused, whose use case wrote nothing that stayed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec
from sqlalchemy import JSON, String, Text, bindparam, cast, column, func, insert, select

from domain.auth.actor import Actor
from domain.clock import utcnow
from domain.models import AuditEvent, table
from domain.random_ids import time_ordered_uuid
from domain.sql import Query, SqlRunner

AUDIT_EVENT = table(AuditEvent)
INSERT_EVENT = Query(insert(AUDIT_EVENT).values({c.name: bindparam(c.name) for c in AUDIT_EVENT.c}))
# An event travels to PostgreSQL as one JSON object (a batch, as one JSON array), expanded into
# columns by the database. Binding a value per column cost the API's process more: ~55k
# instructions per event as arrays (asyncpg inspects every element), and ~35k per request for one
# event's eleven values bound beside its request's statement.
_EVENT_COLUMNS = tuple(c.name for c in AUDIT_EVENT.c)


def _expanded(function: Any, parameter: str, name: str) -> Any:
    """``function`` (``json_to_record`` or ``json_to_recordset``) of the text bound as ``parameter``,
    with each column as the table types it, strings as text: their lengths are checked by the insert."""
    return (
        function(cast(bindparam(parameter, type_=Text()), JSON()))
        .table_valued(*[column(c.name, Text() if isinstance(c.type, String) else c.type) for c in AUDIT_EVENT.c])
        .render_derived(name=name, with_types=True)
    )


_EVENTS = _expanded(func.json_to_recordset, "events", "events")
_EVENT = _expanded(func.json_to_record, "audit_event", "event")  # see with_event
INSERT_EVENTS = Query(insert(AUDIT_EVENT).from_select(list(_EVENT_COLUMNS), select(_EVENTS)))
_JSON = msgspec.json.Encoder()


class Action(StrEnum):
    """What the request did (or tried to do, for ``denied``)."""

    CREATE = "create"
    READ = "read"
    SEARCH = "search"
    UPDATE = "update"
    DELETE = "delete"
    ERASE = "erase"
    IMPORT = "import"
    DENIED = "denied"


class ResourceType(StrEnum):
    """The kind of resource an event is about (FHIR's names)."""

    PATIENT = "Patient"
    APPOINTMENT = "Appointment"
    REMINDER = "Reminder"
    OUTBOX = "Outbox"
    JOB = "Job"
    SCHEDULE = "Schedule"
    SLOT = "Slot"


def batch_parameters(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The parameters :data:`INSERT_EVENTS` takes to insert ``rows`` (made by :func:`event_row`; one at least).

    The rows become one JSON array of objects, encoded in one C call (ids and times as msgspec
    writes them: canonical UUIDs, ISO 8601 with ``Z``); keys other than the columns are ignored.
    """
    return {"events": _JSON.encode(rows).decode()}


def event_row(
    actor: Actor,
    action: Action,
    outcome: int,
    *,
    resource_type: ResourceType | None,
    resource_id: str | None = None,
    patient: str | None = None,
    request_id: str | None = None,
    changes: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """One ``audit_event`` row, ready for :data:`INSERT_EVENT`."""
    return {
        "id": time_ordered_uuid(),  # the trail only grows: its index grows at one edge
        "at": at or utcnow(),
        "actor": actor.name[:255],
        "roles": actor.role_names,
        "action": action.value,
        "resource_type": resource_type.value if resource_type else None,
        "resource_id": resource_id,
        "patient": patient,
        "outcome": outcome,
        "request_id": request_id,
        "changes": msgspec.json.encode(changes).decode() if changes is not None else None,
    }


@dataclass
class AuditTrail:
    """The audit event of one request, as its route declares it and its use case fills it in."""

    actor: Actor
    request_id: str | None
    action: Action
    resource_type: ResourceType | None
    success_outcome: int  # the status the route answers with when all goes well
    resource_id: str | None = None
    patient: str | None = None
    written: bool = False
    # The request's path values (resource id, patient) as a fallback for what ``concerns`` leaves
    # unset, worked out only when an event is built without them (a refusal, an early failure).
    from_path: Callable[[], tuple[str | None, str | None]] | None = None
    # Written by a statement that committed on its own (a registration on PostgreSQL outside a
    # transaction): the event stands whatever happens after, so a later failure must not add a second one.
    committed: bool = False

    def concerns(self, *, resource_id: str | None = None, patient: str | None = None) -> None:
        """Note what the request is about (a read: its event is written when the response is ready)."""
        if resource_id is not None:
            self.resource_id = resource_id
        if patient is not None:
            self.patient = patient

    async def record(
        self,
        sql: SqlRunner,
        *,
        resource_id: str | None = None,
        patient: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert the event in the caller's transaction (call it last, once the change is made)."""
        self.concerns(resource_id=resource_id, patient=patient)
        await sql.execute(INSERT_EVENT, **self.row(self.success_outcome, changes))
        self.written = True

    def bound(self, outcome: int) -> dict[str, str]:
        """The event as :func:`with_event` binds it: one JSON object, ``audit_event``."""
        return {"audit_event": _JSON.encode(self.row(outcome)).decode()}

    def row(self, outcome: int, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The event as a row, with this outcome."""
        action = Action.DENIED if outcome in (401, 403) else self.action
        resource_id, patient = self.resource_id, self.patient
        if (resource_id is None or patient is None) and self.from_path is not None:
            path_resource_id, path_patient = self.from_path()
            resource_id = path_resource_id if resource_id is None else resource_id
            patient = path_patient if patient is None else patient
        return event_row(
            self.actor,
            action,
            outcome,
            resource_type=self.resource_type,
            resource_id=resource_id,
            patient=patient,
            request_id=self.request_id,
            changes=changes if action is Action.UPDATE else None,
        )


async def record(audit: AuditTrail | None, sql: SqlRunner, **details: Any) -> None:
    """:meth:`AuditTrail.record` when the use case runs for an audited request (not for the CLI or a job)."""
    if audit is not None:
        await audit.record(sql, **details)


def concerns(audit: AuditTrail | None, **details: Any) -> None:
    """:meth:`AuditTrail.concerns` when the use case runs for an audited request."""
    if audit is not None:
        audit.concerns(**details)


def changed_fields(
    before: Any, after: Any, ignore: Iterable[str] = ("end", "created_at", "updated_at")
) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` between two views of a resource (as the API shows them)."""
    old, new = msgspec.to_builtins(before), msgspec.to_builtins(after)
    skipped = set(ignore)
    return {
        name: {"from": old.get(name), "to": value}
        for name, value in new.items()
        if name not in skipped and old.get(name) != value
    }


def with_event(statement: Any) -> Query:
    """``statement`` (a SELECT or a DML … RETURNING) and its event's INSERT, as one PostgreSQL statement.

    The event is inserted for each row the statement yields (one, on the paths that use this), in
    the same statement, so auditing costs no extra round trip; the event is bound as one JSON
    object, ``audit_event`` (see :meth:`AuditTrail.bound`). PostgreSQL only: SQLite has no
    data-modifying CTEs, and records in the same transaction instead.
    """
    main = statement.cte("main")
    return Query(select(main).add_cte(event_for_each(main)))


def event_for_each(rows: Any) -> Any:
    """A data-modifying CTE inserting the request's event once for each row of the CTE ``rows``
    (bound as in :func:`with_event`): for a statement that writes its own event (PostgreSQL)."""
    values = select(*[_EVENT.c[name] for name in _EVENT_COLUMNS]).select_from(rows)
    return insert(AUDIT_EVENT).from_select(list(_EVENT_COLUMNS), values).cte("audit_insert")


async def fetch_one_audited(
    sql: SqlRunner, audit: AuditTrail | None, plain: Query, combined: Query, **params: Any
) -> Mapping[str, Any] | None:
    """The row ``plain`` yields, its event recorded with it when it yields one (one round trip on PostgreSQL)."""
    if audit is None:
        return await sql.fetch_one(plain, **params)
    if sql.dialect == "postgresql":
        row = await sql.fetch_one(combined, **params, **audit.bound(audit.success_outcome))
        if row is not None:
            audit.written = True
            audit.committed = not sql.is_in_transaction()
            audit.concerns(patient=row.get("nhs_number"))
        return row
    async with sql.transaction():
        row = await sql.fetch_one(plain, **params)
        if row is not None:
            await audit.record(sql, patient=row.get("nhs_number"))
    audit.committed = audit.written and not sql.is_in_transaction()
    return row
