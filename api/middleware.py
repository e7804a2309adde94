"""Request ids and the one access-log line per request, free of patient data.

The line names the route template (``/patients/{nhs_number:str}``), never the path itself,
and no query string, because both may carry NHS numbers, names or postcodes.

A request id is always PANDA's own: 128 random bits, in hex. A client's ``X-Request-ID`` is
never read, echoed or logged: any value a pattern allows could be an NHS number, so only a
value PANDA made itself is known to carry nothing. A proxy correlates by logging the
``X-Request-ID`` PANDA answers with.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.allow import HEAD_ASKED
from domain.logs import AccessLogWriter
from domain.random_ids import random_hex_id


def request_id_middleware(app: ASGIApp, access_log: AccessLogWriter) -> ASGIApp:
    """Give every request an id of PANDA's own and log it when done."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        request_id = random_hex_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Any X-Request-ID a handler copied from the request is dropped: only PANDA's own goes out.
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            access_log(
                {
                    "request_id": request_id,
                    "method": "HEAD" if scope.get(HEAD_ASKED) else scope.get("method"),
                    "route": _route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )

    return middleware


def _route_template(scope: Any) -> str:
    return str(scope.get("path_template") or "unmatched")
