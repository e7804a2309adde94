"""uvicorn's HTTP protocol with the limits it lacks: a header-read deadline and request-head sizes.

uvicorn bounds connections (``limit_concurrency``) and idle time *between* requests
(``timeout_keep_alive``), but with its fast parser (httptools) nothing bounds a request's head:
a client may send a 10 MB URL or 20,000 headers, and one that opens a connection and sends half
a request line is kept forever (the keep-alive timer is armed only after a response). Hundreds
of such clients hold a connection each until ``limit_concurrency`` turns everyone away.

This protocol keeps uvicorn's own and adds, per request head (request line and headers):

- a deadline, ``HEADER_TIMEOUT_SECONDS`` from the connection's start or the request's first
  byte: past it the connection is closed (``408`` when part of a request had arrived);
- ``MAX_URL_BYTES`` for the request target (``414``), ``MAX_HEADERS`` and
  ``MAX_HEADER_BYTES`` for the headers (``431``), answered by the server before the app runs.

A body is not timed here: an upload may legitimately be slow, and uvicorn pauses reading while
the app is busy, so an idle timer would misfire. The reverse proxy in front bounds slow bodies
(``client_body_timeout`` in ``deploy/nginx.conf``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from domain.config import Settings, get_settings

PROTOCOL = "panda.server:GuardedHttpToolsProtocol"
# After refusing a request, how long its remaining bytes are read and dropped before closing.
LINGER_SECONDS = 2.0


class RequestHeadTooLarge(Exception):
    """Raised inside a parser callback: httptools stops parsing and uvicorn answers the client."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a header-read deadline and limits on the request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits: Settings = get_settings()
        # One timer per connection, not per request: it checks ``_head_since`` when it fires and
        # re-arms itself for what is left (arming and cancelling a timer per request cost ~2 % of
        # a read's CPU).
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_since: float | None = None  # when the head now awaited began to be awaited
        self._head_started = False
        self._header_bytes = 0
        self._head_bytes_received = 0
        limits = self._limits
        # The request line and every header with their framing (": ", CRLF), generously.
        self._head_bytes_limit = limits.max_url_bytes + limits.max_header_bytes + 4 * limits.max_headers + 1024
        self._refusal: int | None = None
        self._lingering: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection must send a complete request head in time, as every later request must."""
        super().connection_made(transport)
        self._head_since = self.loop.time()
        self._arm_head_deadline(self._limits.header_timeout_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        """Nothing more to time on a closed connection."""
        self._disarm_head_deadline()
        if self._lingering is not None:
            self._lingering.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Bound the bytes of a head still incomplete, whatever the parser buffers inside itself.

        httptools keeps a header's name and value to itself until the header is complete, so
        one endless header would grow unseen. A chunk is counted only when the head began in an
        earlier chunk and is still incomplete after it: then every byte of it is head, never a
        body (or a pipelined request's tail) that happened to arrive in the same read.
        """
        if self._lingering is not None:  # answered already: what still comes is dropped
            return
        head_began_before = self._head_started
        super().data_received(data)
        if head_began_before and self._head_started and self._lingering is None and not self.transport.is_closing():
            self._head_bytes_received += len(data)
            if self._head_bytes_received > self._head_bytes_limit:
                self._answer_and_linger(431)

    def on_message_begin(self) -> None:
        """A request's first byte: its head must be complete within the deadline."""
        super().on_message_begin()
        self._head_started = True
        self._header_bytes = 0
        self._head_bytes_received = 0
        if self._head_since is None:
            self._head_since = self.loop.time()

    def on_url(self, url: bytes) -> None:
        """The request target arrives in pieces; refuse it once it is too long."""
        super().on_url(url)
        if len(self.url) > self._limits.max_url_bytes:
            self._refuse(414)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count the headers and their bytes; refuse past either limit."""
        super().on_header(name, value)
        self._header_bytes += len(name) + len(value)
        if len(self.headers) > self._limits.max_headers or self._header_bytes > self._limits.max_header_bytes:
            self._refuse(431)

    def on_headers_complete(self) -> None:
        """The head arrived in time: the app takes over (bodies are the proxy's to time)."""
        self._head_since = None
        self._head_started = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """A head the parser refuses (a control byte in a header, a broken request line) is 400
        ``request.malformed``, a problem document like every other error; a head refused for its
        size gets its own status."""
        if self._refusal is not None:
            self._answer_and_linger(self._refusal)
            return
        headers, body = _malformed_request_problem(dict(self.headers).get(b"accept-language", b""))
        self._answer_and_linger(400, headers, body)

    def _refuse(self, status: int) -> None:
        self._refusal = status
        raise RequestHeadTooLarge(status)

    def _arm_head_deadline(self, delay: float) -> None:
        self._head_deadline = self.loop.call_later(delay, self._check_head_deadline)

    def _disarm_head_deadline(self) -> None:
        self._head_since = None
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _check_head_deadline(self) -> None:
        """The connection's timer: act on a head awaited too long, else look again when one could be."""
        self._head_deadline = None
        if self.transport.is_closing() or self._lingering is not None:
            return
        timeout = self._limits.header_timeout_seconds
        if self._head_since is None:  # between requests (uvicorn's keep-alive timer watches idleness)
            self._arm_head_deadline(timeout)
            return
        left = self._head_since + timeout - self.loop.time()
        if left > 0:
            self._arm_head_deadline(left)
            return
        self._head_since = None
        if self._head_started:
            self._answer_and_linger(408)
        else:  # nothing was asked: close quietly, as after an idle keep-alive
            self.transport.close()

    def _answer_and_linger(self, status: int, headers: list[bytes] | None = None, body: bytes = b"") -> None:
        """Answer, half-close, and read (and drop) what the client still sends for a moment.

        Closing at once with the client's bytes still unread makes the kernel send a reset, which
        can destroy the answer before the client reads it (nginx's "lingering close" for the same
        reason): the client would see a broken connection instead of a 414, 431 or 408.
        """
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(headers or [b"content-length: 0\r\n"])
        content.extend([b"connection: close\r\n\r\n", body])
        self.transport.write(b"".join(content))
        self._disarm_head_deadline()
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = self.loop.call_later(LINGER_SECONDS, self.transport.close)


def _malformed_request_problem(accept_language: bytes) -> tuple[list[bytes], bytes]:
    """The 400 ``request.malformed`` problem document (header lines, body), in the client's
    language when its ``Accept-Language`` was read before the error."""
    import msgspec  # here, not at the top: the supervisor process, which imports this module too, never needs them

    from domain.messages import negotiate_language, problem_document

    language = negotiate_language(accept_language.decode("latin-1") or None)
    body = msgspec.json.encode(problem_document(400, "request.malformed", language))
    headers = [
        b"content-type: application/problem+json\r\n",
        b"content-language: " + language.encode("ascii") + b"\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
    ]
    return headers, body
