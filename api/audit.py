"""The audit trail's door: routes declare their event; every audited or refused request gets one.

``opt=audited(Action.READ, ResourceType.PATIENT, id_param="nhs_number")`` beside a route says
what its event records. The request's :class:`~domain.audit.events.AuditTrail` is handed to the
use case (the ``audit`` dependency), which records a change inside the change's transaction,
or notes what a read concerned. Just before the response starts, :func:`audit_events` writes
the event the use case left unwritten: a read's, or the event of a request that failed (its
transaction, and any event in it, rolled back) or was refused (401, 403: ``denied``). The
client never sees an answer whose event is not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import structlog
from advanced_alchemy.extensions.litestar._utils import get_aa_scope_state
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.audit_writer import EventWriter
from domain.audit.events import INSERT_EVENT, Action, AuditTrail, ResourceType
from domain.auth.actor import UNAUTHENTICATED, Actor
from domain.messages import negotiate_language, problem_document
from domain.rules import normalise_nhs_number
from domain.rules.ids import read_uuid
from domain.sql import SessionRunner

if TYPE_CHECKING:  # api.dependencies builds services with this module's trail_of
    from api.dependencies import AppSqlOpener

log = structlog.get_logger("panda.audit")

AUDIT_OPT = "audit"
_TRAIL = "audit_trail"
_REFUSED = (401, 403)
# How long the event of a failed (5xx) request waits for a pooled connection.
FAILED_EVENT_WAIT_SECONDS = 0.1


@dataclass(frozen=True)
class AuditedRoute:
    """What a route's audit event records: its action and resource, and which path values name them."""

    action: Action
    resource_type: ResourceType
    id_param: str | None = None  # the path parameter holding the resource's id (or NHS number)
    patient_param: str | None = None  # the path parameter holding the patient's NHS number


def audited(
    action: Action, resource_type: ResourceType, *, id_param: str | None = None, patient_param: str | None = None
) -> dict[str, AuditedRoute]:
    """A route's ``opt`` entry declaring its audit event."""
    return {AUDIT_OPT: AuditedRoute(action, resource_type, id_param, patient_param)}


# A controller's ``opt`` entry naming the resource its routes are about, for the ``denied`` event
# of a refused request on a route that audits nothing else (schedules, unavailability, slots).
RESOURCE_OPT = "audit_resource_type"


def about(resource_type: ResourceType) -> dict[str, ResourceType]:
    """A controller's ``opt`` naming the resource its refused requests are recorded against."""
    return {RESOURCE_OPT: resource_type}


def _opt(handler: Any, key: str) -> Any:
    """A value of a route handler's ``opt`` (its controller's merged in), or None."""
    return (getattr(handler, "opt", None) or {}).get(key)


def declared_audit(handler: Any) -> AuditedRoute | None:
    """The audit event a route handler declares, if any."""
    declared = _opt(handler, AUDIT_OPT)
    return declared if isinstance(declared, AuditedRoute) else None


def _path_value(scope: Scope, name: str | None, resource_type: ResourceType | None) -> str | None:
    """A path value as the trail records it: an NHS number normalised, an id as a UUID; else nothing."""
    raw = (scope.get("path_params") or {}).get(name) if name else None
    if not isinstance(raw, str):
        return None
    try:
        if resource_type is ResourceType.PATIENT or name == "nhs_number":
            return normalise_nhs_number(raw)
        return str(read_uuid(raw))
    except ValueError:
        return None  # a malformed identifier names nothing (and is not stored)


def trail_of(scope: Scope) -> AuditTrail | None:
    """The request's audit trail, made on first use (None for a route that records no event)."""
    state = scope.setdefault("state", {})
    trail = state.get(_TRAIL)
    if trail is not None:
        return trail  # type: ignore[no-any-return]
    handler = scope.get("route_handler")
    declared = declared_audit(handler)
    if declared is None:
        return None
    actor = scope.get("user")
    trail = AuditTrail(
        actor=actor if isinstance(actor, Actor) else UNAUTHENTICATED,
        request_id=state.get("request_id"),
        action=declared.action,
        resource_type=declared.resource_type,
        success_outcome=int(getattr(handler, "status_code", None) or 200),
        from_path=lambda: (
            _path_value(scope, declared.id_param, declared.resource_type),
            _path_value(scope, declared.patient_param, ResourceType.PATIENT),
        ),
    )
    state[_TRAIL] = trail
    return trail


def provide_audit(request: Request[Any, Any, Any]) -> AuditTrail | None:
    """The request's audit event, for the use case to record or fill in."""
    return trail_of(request.scope)


def _unwritten_event(scope: Scope, status: int) -> dict[str, Any] | None:
    """The event still to write when the response is ready, or None."""
    handler = scope.get("route_handler")
    if handler is None:
        return None  # no such route: nothing was reached
    trail = trail_of(scope)
    if trail is None:
        if status not in _REFUSED:
            return None
        actor = scope.get("user")
        trail = AuditTrail(
            actor=actor if isinstance(actor, Actor) else UNAUTHENTICATED,
            request_id=scope.get("state", {}).get("request_id"),
            action=Action.DENIED,
            resource_type=_opt(handler, RESOURCE_OPT),
            success_outcome=status,
        )
    elif trail.written and (status < 400 or trail.committed):
        # The use case recorded it with its change. A registration's event that committed with
        # its row stands even if the answer then fails: one request leaves one event.
        return None
    # A failed request's transaction rolled back with any event written in it: record the failure.
    return trail.row(status)


def _unavailable(scope: Scope) -> list[Message]:
    """A 503 problem document, sent instead of an answer whose audit event could not be stored."""
    headers = dict(scope.get("headers") or [])
    language = negotiate_language(headers.get(b"accept-language", b"").decode("latin-1") or None)
    problem = {
        **problem_document(503, "service.unavailable", language),
        "request_id": scope.get("state", {}).get("request_id"),
    }
    body = msgspec.json.encode(problem)
    start: Message = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-language", language.encode()),
            (b"retry-after", b"5"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return [start, {"type": "http.response.body", "body": body, "more_body": False}]


def audit_events(
    open_sql: AppSqlOpener, wait_seconds: float, session_key: str | None = None
) -> Callable[[ASGIApp], ASGIApp]:
    """Wrap the app so every audited or refused request's event is stored before its response starts.

    ``session_key``: where the request's SQLAlchemy session lives (SQLite). That session still
    holds SQLite's one write lock here (it commits just after), so the event goes into it: after
    a failure, once its work is rolled back. Without it (PostgreSQL), events are stored in
    batches by an :class:`~api.audit_writer.EventWriter`, each within ``wait_seconds`` of its arrival.
    """
    batches = EventWriter(open_sql, wait_seconds) if session_key is None else None

    async def write(scope: Scope, status: int, row: dict[str, Any]) -> None:
        session = get_aa_scope_state(scope, session_key) if session_key else None
        if batches is not None and status < 500:
            await batches.write(row)
            return
        if session is None:
            # A failed request's answer does not wait for its event (see below); nor may it wait a
            # second DB_ACQUIRE_TIMEOUT_SECONDS for a connection when the pool ran dry (its 503).
            async with open_sql(FAILED_EVENT_WAIT_SECONDS if status >= 500 else None) as sql:
                await sql.execute(INSERT_EVENT, **row)
            return
        if status >= 400:
            await session.rollback()
        await SessionRunner(session).execute(INSERT_EVENT, **row)
        await session.commit()

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if str(scope["type"]) != "http":
                await app(scope, receive, send)
                return
            replaced = False

            async def send_after_event(message: Message) -> None:
                nonlocal replaced
                if replaced:
                    return  # the answer was replaced by a 503: its own body goes nowhere
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    row = _unwritten_event(scope, status)
                    if row is not None:
                        try:
                            await write(scope, status, row)
                        except Exception as exc:  # noqa: BLE001 - any failure to store the event
                            log.warning("audit.write_failed", error=type(exc).__name__, status=status)
                            if status < 500:  # no answer leaves without its event: the client retries
                                replaced = True
                                for reply in _unavailable(scope):
                                    await send(reply)
                                return
                await send(message)

            try:
                await app(scope, receive, send_after_event)
            finally:
                # The trail's path reader refers back to the scope holding it: dropping the trail
                # breaks that cycle, so the request's objects are freed at once, not by the collector.
                scope.get("state", {}).pop(_TRAIL, None)

        return middleware

    return wrap
