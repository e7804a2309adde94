"""Who is calling: the actor of each request, resolved before guards run (SPEC §9).

With ``AUTH_MODE=off`` every request acts as ``anonymous`` holding every role. With it on, a
route whose declared access is :attr:`Access.OPEN` (health, readiness, the schema, the Notify
callback with its own token) needs no credential; every other route needs ``Authorization:
Bearer <API key or OIDC access token>``, else 401 (rendered by ``api/problems.py`` with
``WWW-Authenticate: Bearer``). A route that declares no access needs a credential: new routes
fail closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from litestar.types import ASGIApp, Receive, Scope, Send

from api.access import declared_access
from api.dependencies import SqlOpener
from domain.auth.access import Access
from domain.auth.actor import ANONYMOUS, UNAUTHENTICATED, Actor
from domain.auth.credentials import Authenticator, KeyRing
from domain.auth.tokens import OidcProvider, TokenVerifier
from domain.config import Settings, is_loopback
from domain.services import api_keys

log = structlog.get_logger("panda.auth")

_OPEN_PREFIXES = ("/schema",)


def make_authenticator(settings: Settings, open_sql: SqlOpener) -> Authenticator | None:
    """The credential checker for ``settings`` (None when auth is off)."""
    if not settings.auth_enabled:
        if not is_loopback(settings.host):
            log.warning("auth.disabled", host_is_loopback=False)
        return None

    async def load() -> dict[str, Actor]:
        async with open_sql() as sql:
            return await api_keys.live_keys(sql)

    async def mark_used(hashes: Any, at: Any) -> None:
        async with open_sql() as sql:
            await api_keys.mark_used(sql, hashes, at)

    keys = KeyRing(load, mark_used, max_age=settings.api_key_refresh_seconds)
    tokens = None
    if settings.oidc_issuer and settings.oidc_audience:
        provider = OidcProvider(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_url=settings.oidc_jwks_url,
            roles_claim=settings.oidc_roles_claim,
        )
        tokens = TokenVerifier(provider)
    return Authenticator(keys, tokens)


_NEEDS_CREDENTIAL: dict[Any, bool] = {}


def needs_credential(scope: Scope) -> bool:
    """Whether the matched route admits only authenticated callers (worked out once per handler)."""
    if scope.get("method") == "OPTIONS":  # answers only which methods exist (and CORS preflights)
        return False
    handler = scope.get("route_handler")
    if handler is None:
        return True
    needed = _NEEDS_CREDENTIAL.get(handler)
    if needed is None:
        access = declared_access(handler)
        if access is None:
            needed = not str(scope.get("path", "")).startswith(_OPEN_PREFIXES)
        else:
            needed = access is not Access.OPEN
        _NEEDS_CREDENTIAL[handler] = needed
    return needed


def authentication(authenticator: Authenticator | None) -> Callable[[ASGIApp], ASGIApp]:
    """Litestar middleware putting the request's actor in ``scope["user"]`` (see :func:`api.access.actor_of`)."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if authenticator is None:
                scope["user"] = ANONYMOUS
            elif needs_credential(scope):
                header = _authorization(scope)
                scope["user"] = await authenticator.actor(header)
            else:
                scope["user"] = UNAUTHENTICATED
            await app(scope, receive, send)

        return middleware

    return factory


def _authorization(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None
