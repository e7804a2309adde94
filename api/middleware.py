"""Request ids and the one access-log line per request, free of patient data.

The line names the route template (``/patients/{nhs_number:str}``), never the path itself,
and no query string, because both may carry NHS numbers, names or postcodes.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("panda.access")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (or keep a safe one sent by a proxy) and log it when done."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _SAFE_REQUEST_ID.fullmatch(sent) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                request_id=request_id,
                method=scope.get("method"),
                route=_route_template(scope),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )

    return middleware


def _route_template(scope: Any) -> str:
    return str(scope.get("path_template") or "unmatched")
