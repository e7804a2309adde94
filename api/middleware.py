"""Request ids and the one access-log line per request, free of patient data.

The line names the route template (``/patients/{nhs_number:str}``), never the path itself,
and no query string, because both may carry NHS numbers, names or postcodes.

A request id is always PANDA's own: 128 random bits, in hex. A client's ``X-Request-ID`` is
never read, echoed or logged: any value a pattern allows could be an NHS number, so only a
value PANDA made itself is known to carry nothing. A proxy correlates by logging the
``X-Request-ID`` PANDA answers with.
"""

from __future__ import annotations

import os
import time
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("panda.access")


class RequestIds:
    """128-bit ids from the operating system's random source, read 256 ids at a time.

    One ``getrandom`` call per request showed up as a few per cent of the API's time under load;
    the bytes are the same kernel randomness, only fetched in bulk.
    """

    def __init__(self, batch: int = 256) -> None:
        self.batch = batch
        self._hex = ""
        self._at = 0

    def next(self) -> str:
        """A fresh id: 32 hex digits."""
        if self._at >= len(self._hex):
            self._hex, self._at = os.urandom(16 * self.batch).hex(), 0
        start, self._at = self._at, self._at + 32
        return self._hex[start : self._at]


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id of PANDA's own and log it when done."""

    ids = RequestIds()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        request_id = ids.next()
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
