"""Checks that run before a body or a query parameter is parsed."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.params import QueryParameter

from domain.errors import FieldError, InvalidInput


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``+json`` type; a missing header is taken as JSON."""
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    return media_type in {"", "application/json"} or media_type.endswith("+json")


async def require_json(request: Request[Any, Any, Any]) -> None:
    """Refuse a body in another content type with 415 before reading it; query checks as everywhere."""
    if request.method in {"POST", "PUT", "PATCH"} and not is_json(request.headers.get("content-type", "")):
        raise HTTPException(status_code=415)
    await single_valued_query(request)


_DECLARED: dict[Any, frozenset[str]] = {}
# A handler's ``opt`` may name query parameters that are lists by design (FHIR's ``start=ge…&start=lt…``).
MULTI_VALUED_OPT = "multi_valued_query"


def declared_query_parameters(handler: BaseRouteHandler) -> frozenset[str]:
    """The query parameters ``handler`` reads (by their names in the URL), worked out once per handler."""
    declared = _DECLARED.get(handler.fn)
    if declared is None:
        declared = _DECLARED[handler.fn] = frozenset(
            field.kwarg_definition.name or name
            for name, field in handler.parsed_fn_signature.parameters.items()
            if isinstance(field.kwarg_definition, QueryParameter)
        ) - frozenset(handler.opt.get(MULTI_VALUED_OPT, ()))
    return declared


# A before-request hook rather than a guard: Litestar copies the handler for every guard call.
async def single_valued_query(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Every query parameter takes one value: a repeated one is refused (400) rather than half read.

    Left alone, the framework silently keeps the last value, so ``?status=active&status=missed``
    would list missed appointments only. Parameters an endpoint does not read are ignored.
    """
    if not connection.scope["query_string"]:
        return
    query = connection.query_params
    declared = declared_query_parameters(connection.route_handler)
    repeated = sorted(key for key in declared if len(query.getall(key, [])) > 1)
    if repeated:
        raise InvalidInput([FieldError(key, "query.invalid") for key in repeated])
