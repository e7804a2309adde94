"""Route guards from SPEC §9's table: ``guards=[requires(Access.CLINICAL_READ)]`` beside each route.

The actor is resolved once per request by the authentication layer and kept in the ASGI scope
(``scope["user"]``, Litestar's place for it); with ``AUTH_MODE=off`` every request is
:data:`~domain.auth.actor.ANONYMOUS`, holding every role.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from domain.auth.access import Access, may
from domain.auth.actor import ANONYMOUS, Actor
from domain.errors import Forbidden

ACCESS_OPT = "access"  # a guarded route's ``opt`` names its access too, for the route × role matrix


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The request's actor (anonymous, holding every role, when auth is off)."""
    actor = connection.scope.get("user")
    return actor if isinstance(actor, Actor) else ANONYMOUS


def require(connection: ASGIConnection[Any, Any, Any, Any], access: Access) -> None:
    """Refuse the request (403) unless its actor holds a role ``access`` admits."""
    if not may(actor_of(connection), access):
        raise Forbidden("auth.forbidden")


class requires:  # noqa: N801  # reads as a declaration: guards=[requires(Access.X)]
    """A guard admitting actors that hold one of the roles SPEC §9 gives ``access``."""

    def __init__(self, access: Access) -> None:
        self.access = access

    # A coroutine function on purpose: Litestar runs a plain function guard in a worker thread,
    # which cost every guarded request a thread hop (about a sixth of its time under load).
    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        require(connection, self.access)

    def __repr__(self) -> str:
        return f"requires({self.access})"


def declared_access(handler: BaseRouteHandler) -> Access | None:
    """The access a route handler's guards declare (None: the route declares none)."""
    for layer in reversed(handler.ownership_layers):  # the handler's own guards first, then its router's
        for guard in getattr(layer, "guards", None) or ():
            if isinstance(guard, requires):
                return guard.access
    return None
