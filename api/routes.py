"""Litestar's route decorators, with guards that are handed the route handler itself.

Litestar calls each guard with a fresh ``copy()`` of the handler, so that a guard may change it
without touching other requests. PANDA's guards (:class:`api.access.requires`) only read the
actor from the connection, and the copy of a handler's forty-odd slots cost every guarded
request about 7 µs (2–3 % of a request on the hot paths). Controllers import ``get``, ``post``,
``patch`` and ``delete`` from here; everything else is Litestar's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler


class GuardedRouteHandler(HTTPRouteHandler):
    """An HTTP route handler whose guards are handed the handler itself (see the module's docstring)."""

    __slots__ = ()

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Ensure the connection is authorized by running all the route guards in scope."""
        for guard in self.resolve_guards():
            await guard(connection, self)  # type: ignore[arg-type,misc]


def _decorator(method: HttpMethod) -> Callable[..., GuardedRouteHandler]:
    def decorator(path: str | list[str] | None = None, **kwargs: Any) -> GuardedRouteHandler:
        return GuardedRouteHandler(path, http_method=method, **kwargs)

    decorator.__doc__ = f"``litestar.{method.lower()}``, its guards handed the handler itself."
    return decorator


get = _decorator(HttpMethod.GET)
post = _decorator(HttpMethod.POST)
patch = _decorator(HttpMethod.PATCH)
delete = _decorator(HttpMethod.DELETE)
