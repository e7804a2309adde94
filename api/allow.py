"""Methods: ``HEAD`` wherever ``GET`` is, and a correct ``Allow`` header on ``OPTIONS``.

HTTP requires ``HEAD`` of a general-purpose server wherever ``GET`` is answered (RFC 9110 §9.1):
monitors and proxies send it (``curl -I``). Litestar answers it only where a handler declares
it, so :func:`head_as_get` answers it as ``GET``, headers and all, without the body.

Litestar 2 builds a path's ``OPTIONS`` answer when the path's first handler is registered and
never updates it, so ``OPTIONS /patients/{nhs_number}`` listed ``DELETE, OPTIONS`` only
(litestar-org/litestar#4169, fixed in Litestar 3). The complete list is known once the app is
built; this rewrites the header from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send


def with_head(methods: Iterable[str]) -> set[str]:
    """``methods`` and, wherever ``GET`` is among them, ``HEAD`` (answered by :func:`head_as_get`)."""
    names = {str(method) for method in methods}
    return names | ({"HEAD"} if "GET" in names else set())


def allowed_methods(app: Litestar) -> dict[str, bytes]:
    """``{path template: b"DELETE, GET, HEAD, OPTIONS, PATCH"}`` for every HTTP route of ``app``."""
    return {
        route.path_format: ", ".join(sorted(with_head(route.methods))).encode()
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }


def correct_allow_header(app: Litestar, inner: ASGIApp) -> ASGIApp:
    """Wrap ``inner`` (``app``'s handler) so an ``Allow`` header it sends lists every method of the route."""
    allowed = allowed_methods(app)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or cast(HTTPScope, scope)["method"] != "OPTIONS":
            await inner(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            methods = allowed.get(str(scope.get("path_template")))
            if message["type"] == "http.response.start" and methods is not None:
                headers = list(message.get("headers", []))
                if any(name.lower() == b"allow" for name, _value in headers):
                    headers = [(name, value) for name, value in headers if name.lower() != b"allow"]
                    message["headers"] = [*headers, (b"allow", methods)]
            await send(message)

        await inner(scope, receive, send_with_allow)

    return middleware


# Set in the copy of a ``HEAD`` request's scope that goes on as a ``GET``: the access log names the method asked.
HEAD_ASKED = "panda.head_asked"


def head_as_get(inner: ASGIApp) -> ASGIApp:
    """Answer ``HEAD`` as ``inner`` answers ``GET`` (status, headers, ``Content-Length`` included),
    sending no body: guards, auditing and errors are the ``GET``'s own, so a ``HEAD`` of a patient
    is refused, or recorded as a read, exactly as its ``GET`` would be.

    The outermost wrapper, and ``inner`` gets a copy of the scope: the server's own scope must
    still say ``HEAD``, because uvicorn checks the body it is sent against ``Content-Length`` by it
    (a ``HEAD`` said to be a ``GET`` closed its connection).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or cast(HTTPScope, scope)["method"] != "HEAD":
            await inner(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await inner({**scope, "method": "GET", HEAD_ASKED: True}, receive, send_without_body)  # type: ignore[arg-type]

    return middleware
