"""RFC 9457 problem documents, localised by ``Accept-Language``, for every error PANDA returns."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.allow import with_head
from domain.errors import DomainError, FieldError, InvalidInput, Unauthenticated
from domain.inputs import field_errors
from domain.messages import message, negotiate_language, title
from domain.sql import TransientConflict

log = structlog.get_logger("panda.api")

_HTTP_CODES = {
    404: "route.not_found",
    405: "method.not_allowed",
    413: "body.too_large",
    415: "content_type.unsupported",
    503: "service.unavailable",
}
# The API's hot paths run on asyncpg directly, whose errors SQLAlchemy does not wrap: a lost or
# refused connection, a server shutting down or starting up, a full server, a cancelled statement.
# A pooled connection the server closed while it sat idle fails with InternalClientError
# ("another operation is in progress"); the pool drops it when it comes back.
# TransientConflict: a transaction still deadlocked after its retries. PoolTimeout: no pooled
# connection came free within DB_ACQUIRE_TIMEOUT_SECONDS (the API's driver pool raises TimeoutError).
_UNAVAILABLE = (
    PoolTimeout,
    OperationalError,
    InterfaceError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.InternalClientError,
    asyncpg.InvalidCachedStatementError,  # a migration changed a type under a running API: try again
    TransientConflict,
)


class LocalisedProblem(ProblemDetailsException):
    """A problem whose title and messages are rendered in the client's language."""

    def __init__(
        self,
        status: int,
        code: str,
        params: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, type_=f"urn:panda:problem:{code}", headers=headers)
        self.code = code
        self.params = params or {}
        self.errors = errors

    def to_response(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """Render in the negotiated language; ``detail`` names the rule, never the value."""
        language = negotiate_language(request.headers.get("accept-language"))
        self.title = title(self.status_code, language)
        if self.errors and len(self.errors) > 1:
            self.detail = message("input.invalid_many", language, count=len(self.errors))
        elif self.errors:
            # The one error's own parameters: an InvalidInput carries none ("one of: {allowed}").
            self.detail = message(self.errors[0].code, language, **self.errors[0].params)
        else:
            self.detail = message(self.code, language, **self.params)
        self.extra: dict[str, Any] = {"code": self.code}
        if self.errors is not None:
            self.extra["errors"] = [
                {"field": e.field, "code": e.code, "message": message(e.code, language, **e.params)}
                for e in self.errors
            ]
        request_id = request.scope.get("state", {}).get("request_id")
        if request_id:
            self.extra["request_id"] = request_id
        response = super().to_response(request)
        response.headers["Content-Language"] = language
        return response


def from_domain(exc: DomainError) -> LocalisedProblem:
    """Domain errors already carry their status and code; a 401 says how to authenticate (RFC 6750)."""
    errors = exc.errors if isinstance(exc, InvalidInput) else None
    headers = None
    if isinstance(exc, Unauthenticated):
        challenge = 'Bearer realm="panda"' + (', error="invalid_token"' if exc.code == "auth.invalid" else "")
        headers = {"WWW-Authenticate": challenge}
    return LocalisedProblem(exc.status, exc.code, exc.params, errors, headers=headers)


def from_http(exc: HTTPException) -> LocalisedProblem:
    """Framework errors: bodies and query parameters of the wrong form, unknown routes and methods."""
    if exc.status_code == 400:
        body_errors = _body_errors(exc)
        if body_errors:
            return LocalisedProblem(400, body_errors[0].code, body_errors[0].params, body_errors)
        errors = [_query_error(item) for item in (exc.extra if isinstance(exc.extra, list) else [])]
        errors = errors or [FieldError("body", "input.invalid")]
        return LocalisedProblem(400, errors[0].code, errors[0].params, errors)
    code = _HTTP_CODES.get(exc.status_code, "server.error" if exc.status_code >= 500 else "input.invalid")
    headers = {k: _allow_with_head(v) for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return LocalisedProblem(exc.status_code, code, headers=headers)


def _allow_with_head(allow: str) -> str:
    """A 405's ``Allow`` as Litestar wrote it, with ``HEAD`` wherever ``GET`` is."""
    return ", ".join(sorted(with_head({method.strip() for method in allow.split(",") if method.strip()})))


def _body_errors(exc: BaseException) -> list[FieldError]:
    """Litestar keeps pydantic's error (with PANDA's rule codes) or the JSON decoder's as a cause."""
    causes = []
    cause = exc.__cause__
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__
    for cause in causes:
        if isinstance(cause, ValidationError):
            return field_errors(cause)
    # msgspec.ValidationError subclasses DecodeError but means a bad query/path value, not bad JSON.
    if any(
        isinstance(c, SerializationException | msgspec.DecodeError) and not isinstance(c, msgspec.ValidationError)
        for c in causes
    ):
        return [FieldError("body", "body.malformed_json")]
    return []


def _query_error(item: Any) -> FieldError:
    if isinstance(item, dict) and item.get("source") == "body":
        # The body itself is missing (an empty request): the client must send a JSON object.
        return FieldError("body", "body.not_object")
    # ``limit`` and ``offset`` never get here: the domain parses them with the list's filters.
    return FieldError(str(item.get("key", "query")) if isinstance(item, dict) else "query", "query.invalid")


def from_unexpected(exc: Exception) -> LocalisedProblem:
    """A lost database is 503 (try again); anything else is a 500 logged with its request id."""
    if _unavailable(exc):
        log.warning("dependency_unavailable", error=type(exc).__name__)
        return LocalisedProblem(503, "service.unavailable", headers={"Retry-After": "5"})
    # The exception's text may quote data (e.g. a constraint's key), so only its type is logged.
    log.error("unhandled_error", error=type(exc).__name__, causes=_causes(exc), location=_where(exc))
    return LocalisedProblem(500, "server.error")


def _unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` or what it wraps says a dependency is gone (SQLAlchemy wraps asyncpg's errors)."""
    pending: list[BaseException | None] = [exc]
    checked = 0
    while pending and checked < 16:
        seen = pending.pop()
        if seen is None:
            continue
        checked += 1
        if isinstance(seen, _UNAVAILABLE) or (isinstance(seen, DBAPIError) and seen.connection_invalidated):
            return True
        orig = seen.orig if isinstance(seen, DBAPIError) else None
        pending += [seen.__cause__, seen.__context__, orig if isinstance(orig, BaseException) else None]
    return False


def _causes(exc: BaseException) -> list[str]:
    """The types (never the texts) of the exceptions ``exc`` was raised from or while handling."""
    names: list[str] = []
    seen = exc.__cause__ or exc.__context__
    while seen is not None and len(names) < 8:
        names.append(type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return names


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"


def problem_details_plugin() -> ProblemDetailsPlugin:
    """Litestar's problem-details plugin, fed by PANDA's mappings."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                DomainError: from_domain,
                HTTPException: from_http,
                Exception: from_unexpected,
            }
        )
    )
