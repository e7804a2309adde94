"""The error half of the OpenAPI schema: every operation documents the problem documents it can return.

One pass over the generated schema, so no route lists its errors by hand. What an operation can
answer follows from what it takes: query parameters or a body can be invalid (400), a path names
a resource that may not exist (404), a JSON body can be too large (413) or of another type (415),
and anything that reads the database can find it gone (503). Conflicts (409) depend on the use
case, so a handler declares them: ``opt={"problems": [409]}``. A response a handler documents
itself (``responses=``) is kept as it is.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.enums import ParamType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

PROBLEM_JSON = "application/problem+json"
PROBLEMS_OPT = "problems"

_DESCRIPTIONS = {
    400: "Invalid input: every bad field is named in `errors`; nothing was changed.",
    404: "No such resource (a malformed identifier names none either).",
    409: "A conflict with stored state: a duplicate, an overlap or a forbidden status change.",
    413: "The request body is larger than the limit (1 MiB for JSON).",
    415: "The request body is not JSON.",
    503: "The database is unavailable for a moment; retry after `Retry-After` seconds.",
}

_FIELD_ERROR = Schema(
    type=OpenAPIType.OBJECT,
    required=["field", "code", "message"],
    properties={
        "field": Schema(type=OpenAPIType.STRING, description="The bad field (`body` for the body as a whole)."),
        "code": Schema(type=OpenAPIType.STRING, description="Stable machine code, e.g. `nhs_number.checksum`."),
        "message": Schema(type=OpenAPIType.STRING, description="Localised by `Accept-Language`."),
    },
)

PROBLEM_DETAILS = Schema(
    type=OpenAPIType.OBJECT,
    description="An RFC 9457 problem document; `detail` never echoes patient data.",
    required=["type", "title", "status", "detail", "code"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="`urn:panda:problem:<code>`."),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING, description="Stable machine code of the problem."),
        "errors": Schema(type=OpenAPIType.ARRAY, items=_FIELD_ERROR, description="For 400: every bad field."),
        "request_id": Schema(type=OpenAPIType.STRING, description="As in the `X-Request-ID` header and the logs."),
    },
)

_RETRY_AFTER = OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description="Seconds to wait before retrying.")


def document_problems(app: Litestar) -> None:
    """Add the problem responses to every operation of ``app``'s (lazily built, then cached) schema."""
    openapi = app.openapi_schema
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["ProblemDetails"] = PROBLEM_DETAILS
    for route in app.routes:
        path_item = (openapi.paths or {}).get(route.path_format) if isinstance(route, HTTPRoute) else None
        if path_item is None:
            continue
        for handler in route.route_handlers:  # type: ignore[attr-defined]
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if isinstance(operation, Operation):
                    _document(operation, handler)


def problem_statuses(operation: Operation, handler: HTTPRouteHandler) -> set[int]:
    """The error statuses ``operation`` can answer, from what it takes and what its handler declares."""
    located = {parameter.param_in for parameter in operation.parameters or [] if not isinstance(parameter, Reference)}
    has_body = operation.request_body is not None
    statuses = set(handler.opt.get(PROBLEMS_OPT, ()))
    if has_body or ParamType.QUERY in located:
        statuses.add(400)
    if ParamType.PATH in located:
        statuses.add(404)
    if has_body:
        statuses |= {413, 415}
    # A handler that takes nothing (``/health``) reaches neither the database nor the broker.
    if handler.parsed_fn_signature.parameters:
        statuses.add(503)
    return statuses


def _document(operation: Operation, handler: HTTPRouteHandler) -> None:
    own = {str(status) for status in handler.responses or {}}
    responses: dict[str, Any] = dict(operation.responses or {})
    # Litestar documents its own validation error format for 400; PANDA answers problem documents.
    responses = {status: response for status, response in responses.items() if status in own or status[0] in "23"}
    for status in sorted(problem_statuses(operation, handler)):
        if str(status) not in own:
            responses[str(status)] = _problem_response(status)
    operation.responses = responses


def _problem_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_DESCRIPTIONS.get(status, "A problem document."),
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ProblemDetails"))},
        headers={"Retry-After": _RETRY_AFTER} if status == 503 else None,
    )
