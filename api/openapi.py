"""What the OpenAPI schema needs beyond Litestar's generation, added in one pass over it.

Errors: every operation documents the problem documents it can return, and no route lists them
by hand. What an operation can
answer follows from what it takes: query parameters or a body can be invalid (400), a path names
a resource that may not exist (404), a JSON body can be too large (413) or of another type (415),
and anything that reads the database can find it gone (503). Conflicts (409) depend on the use
case, so a handler declares them: ``opt={"problems": [409]}``. A response a handler documents
itself (``responses=``) is kept as it is.

Inputs: request bodies are documented as they are read. Litestar describes a field by its
Python type, so a duration (read from ``"1h30m"`` into minutes) showed as an integer; it leaves
out the models' own JSON Schema (patterns, lengths, examples), that an unknown field is refused
(``additionalProperties: false``), that a partial update's field may be left out but not
sent as ``null`` (the models' ``REFUSES_NULL``), and that a create's optional field with a default
takes ``null`` for that default (``NULL_IS_DEFAULT``).

Interactive docs: Swagger UI at ``/schema`` (and ``/schema/swagger``), its script, styles and
icon served by PANDA itself from the pinned ``swagger-ui-py`` package. Litestar's renderers load
them from a public CDN by default (Scalar's even ``@latest``): a blank page on a hospital network
without internet, and an unpinned third-party script on a patient-data system.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader
from litestar.enums import ParamType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from pydantic import BaseModel

from api.access import declared_access, requires
from domain import inputs
from domain.auth.access import Access
from domain.input_fields import NULL_IS_DEFAULT

DOCS_ASSETS_PATH = "/schema/assets"
# The Swagger UI release inside swagger-ui-py 25.7.1 (pinned in pyproject.toml): 5.x reads OpenAPI 3.1.
SWAGGER_UI_VERSION = "5.24.2"

PROBLEM_JSON = "application/problem+json"
PROBLEMS_OPT = "problems"

_DESCRIPTIONS = {
    400: "Invalid input: every bad field is named in `errors`; nothing was changed.",
    401: "No usable credential (`auth.required`, `auth.invalid`): send `Authorization: Bearer` with an API key "
    "or an OIDC access token. Carries `WWW-Authenticate: Bearer`.",
    403: "The credential's roles do not admit this request (`auth.forbidden`).",
    404: "No such resource (a malformed identifier names none either).",
    409: "A conflict with stored state: a duplicate, an overlap or a forbidden status change.",
    413: "The request body is larger than the limit (1 MiB for JSON).",
    415: "The request body is not JSON.",
    503: "The database is unavailable for a moment; retry after `Retry-After` seconds.",
}

BEARER = SecurityScheme(
    type="http",
    scheme="bearer",
    description="An API key (`panda keys create`) or an OpenID Connect access token (JWT) from the identity provider.",
)

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


def document_problems(app: Litestar, guarded: bool = False) -> None:
    """Add the problem responses to every operation of ``app``'s (lazily built, then cached) schema.

    ``guarded`` (``AUTH_MODE=on``): operations also document 401 and 403 and require the bearer
    scheme; with auth off they are never answered, so the schema does not promise them.
    """
    openapi = app.openapi_schema
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    openapi.components.schemas["ProblemDetails"] = PROBLEM_DETAILS
    if guarded:  # Swagger UI's "Authorize" button: an API key or an OIDC access token, as a bearer credential
        openapi.components.security_schemes = {**(openapi.components.security_schemes or {}), "bearer": BEARER}
    for route in app.routes:
        path_item = (openapi.paths or {}).get(route.path_format)
        if path_item is None or not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                operation = getattr(path_item, method.lower(), None)
                if isinstance(operation, Operation):
                    _document(operation, handler, guarded)
                    if guarded:
                        operation.security = [] if declared_access(handler) is Access.OPEN else [{"bearer": []}]


def document_inputs(app: Litestar) -> None:
    """Make the schemas of PANDA's input models say what the models refuse."""
    schemas = app.openapi_schema.components.schemas or {}
    for model in vars(inputs).values():
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or model.__name__ not in schemas:
            continue
        schema = schemas[model.__name__]
        declared = model.model_json_schema(mode="validation")["properties"]
        for name, field in (schema.properties or {}).items():
            _overlay(field, declared.get(name, {}))
        if model.model_config.get("extra") == "forbid":
            schema.additional_properties = False
        for name in getattr(model, "REFUSES_NULL", ()):
            nullable = (schema.properties or {}).get(name)
            if isinstance(nullable, Schema) and nullable.one_of:
                kept = [s for s in nullable.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
                schema.properties[name] = kept[0] if len(kept) == 1 else Schema(one_of=kept)  # type: ignore[index]
        properties = schema.properties or {}
        for name, model_field in model.model_fields.items():
            key = model_field.alias or name
            shown = properties.get(key)
            if NULL_IS_DEFAULT in model_field.metadata and shown is not None and not getattr(shown, "one_of", None):
                properties[key] = Schema(one_of=[shown, Schema(type=OpenAPIType.NULL)])


# What a model's own JSON Schema says better than its Python types; formats stay Litestar's
# (date, date-time, uuid), which match the parsers, where pydantic's "email" would be stricter.
_OVERLAID = {"type": "type", "pattern": "pattern", "minLength": "min_length", "maxLength": "max_length"}


def _overlay(field: Schema | Reference, declared: dict[str, Any]) -> None:
    """Copy a field's declared wire type and constraints onto Litestar's schema of it (null branch aside)."""
    if not isinstance(field, Schema):  # a reference (an enum's component) is documented already
        return
    targets = [s for s in (field.one_of or [field]) if isinstance(s, Schema) and s.type != OpenAPIType.NULL]
    sources = [s for s in declared.get("anyOf", [declared]) if s.get("type") != "null"]
    if len(targets) != 1 or len(sources) != 1 or "type" not in sources[0]:
        return
    target, source = targets[0], sources[0]
    for key, attribute in _OVERLAID.items():
        if key in source:
            setattr(target, attribute, OpenAPIType(source[key]) if key == "type" else source[key])
    if "examples" in source:
        target.examples = list(source["examples"])


def problem_statuses(operation: Operation, handler: HTTPRouteHandler, guarded: bool = False) -> set[int]:
    """The error statuses ``operation`` can answer, from what it takes and what its handler declares."""
    located = {parameter.param_in for parameter in operation.parameters or [] if not isinstance(parameter, Reference)}
    has_body = operation.request_body is not None
    statuses = set(handler.opt.get(PROBLEMS_OPT, ()))
    if guarded and declared_access(handler) is not Access.OPEN:  # SPEC §9: a credential and a role are needed
        statuses |= {401, 403}
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


def _document(operation: Operation, handler: HTTPRouteHandler, guarded: bool) -> None:
    own = {str(status) for status in handler.responses or {}}
    responses: dict[str, Any] = dict(operation.responses or {})
    # Litestar documents its own validation error format for 400; PANDA answers problem documents.
    responses = {status: response for status, response in responses.items() if status in own or status[0] in "23"}
    for status in sorted(problem_statuses(operation, handler, guarded)):
        if str(status) not in own:
            responses[str(status)] = _problem_response(status)
    operation.responses = responses


def _problem_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_DESCRIPTIONS.get(status, "A problem document."),
        content={PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/ProblemDetails"))},
        headers={"Retry-After": _RETRY_AFTER} if status == 503 else None,
    )


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at ``/schema`` and ``/schema/swagger``, every asset from :func:`docs_assets_router`."""
    return [
        SwaggerRenderPlugin(
            version=SWAGGER_UI_VERSION,
            js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS_PATH}/favicon-32x32.png'>",
            path=["/", "/swagger"],
        )
    ]


def docs_assets_router() -> Router:
    """The packaged Swagger UI files, cached by browsers for a day (they change only with the package)."""
    static = Path(str(files("swagger_ui") / "static"))
    return create_static_files_router(
        path=DOCS_ASSETS_PATH,
        directories=[static],
        name="docs_assets",
        cache_control=CacheControlHeader(max_age=86400, public=True),
        include_in_schema=False,
        guards=[requires(Access.OPEN)],
    )
