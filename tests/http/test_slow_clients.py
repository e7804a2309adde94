"""Slow, idle and oversized clients against a real ``panda api`` process (slowloris, huge heads).

Hundreds of connections that send half a request and then wait must neither keep others waiting
nor stay forever: the server drops each at its header deadline. A request head too large for
the limits gets the server's own 414 or 431 at once, never a hang or a 500, and the server
serves on. Everything runs on loopback with bounded counts and times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
import pytest

from domain.messages import message
from tests.factories import appointment_body, nhs_number, now, patient_body
from tests.http.live_server import live_api

IDLE_CLIENTS = 300
SILENT_CLIENTS = 50  # of those, connected and sending nothing at all
HEADER_TIMEOUT = 3.0
CONNECTION_LIMIT = IDLE_CLIENTS + 20
ANSWER_WITHIN = 1.0
HALF_SENT = b"GET /health HTTP/1.1\r\nHost: panda.test\r\nUser-Agent: slow\r\nX-Still-Typing: "
TEN_MB = 10 * 1024 * 1024


def _port(base_url: str) -> int:
    return int(urlsplit(base_url).port or 80)


def _open(port: int, first_bytes: bytes) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    if first_bytes:
        connection.sendall(first_bytes)
    return connection


def _read_to_end(connection: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (bounded by ``timeout``)."""
    connection.settimeout(timeout)
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` whole (the server may stop reading it) and return the server's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        return _read_to_end(connection, timeout=10)


def _status(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


async def _quick(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    started = time.monotonic()
    response = await call()
    elapsed = time.monotonic() - started
    assert elapsed < ANSWER_WITHIN, f"{response.request.method} {response.request.url.path} took {elapsed:.2f} s"
    return response


def _oversized_heads_get_414_or_431(port: int) -> None:
    # uvicorn alone served a 60 KB target, and read a 10 MB one whole before refusing it with 400.
    for size in (60_000, TEN_MB):
        long_url = b"GET /health?pad=" + b"a" * size + b" HTTP/1.1\r\nHost: panda.test\r\n\r\n"
        assert _status(_exchange(port, long_url)) == 414
    many = b"".join(b"X-Header-%d: v\r\n" % i for i in range(20_000))
    assert _status(_exchange(port, b"GET /health HTTP/1.1\r\nHost: panda.test\r\n" + many + b"\r\n")) == 431
    one_huge = b"GET /health HTTP/1.1\r\nHost: panda.test\r\nX-Big: " + b"v" * TEN_MB + b"\r\n\r\n"
    assert _status(_exchange(port, one_huge)) == 431
    # Within the limits (8 KiB target, 100 headers, 32 KiB of headers) a request is served.
    fine = b"".join(b"X-Header-%d: %s\r\n" % (i, b"v" * 200) for i in range(90))
    request = b"GET /health?pad=" + b"a" * 7000 + b" HTTP/1.1\r\nHost: panda.test\r\nConnection: close\r\n"
    assert _status(_exchange(port, request + fine + b"\r\n")) == 200


def _read_response(connection: socket.socket) -> bytes:
    """One whole response (head and its ``content-length`` of body) from a kept-alive connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, "the server closed a connection that was in use"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length:"))
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "the server closed a connection that was in use"
        body += chunk
    assert len(body) == length, "nothing was sent after this response"
    return head


def _heads_the_parser_refuses_get_a_problem_document(port: int) -> None:
    """A head the HTTP parser refuses (a control byte in a header value, a broken request line)
    is 400 ``request.malformed``, a localised problem document, not the server's plain text."""
    for head, language in (
        (b"GET /health HTTP/1.1\r\nHost: x\r\nAccept-Language: cy\r\nX-Foo: a\x01b\r\n\r\n", "cy"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Foo: a\x01b\r\n\r\n", "en"),
        (b"GET /he alth HTTP/9\r\n\r\n", "en"),
    ):
        answer = _exchange(port, head)
        head_part, _, body = answer.partition(b"\r\n\r\n")
        assert _status(answer) == 400, answer
        assert b"content-type: application/problem+json" in head_part.lower()
        assert f"content-language: {language}".encode() in head_part.lower()
        problem = json.loads(body)
        assert (problem["status"], problem["code"]) == (400, "request.malformed")
        assert problem["detail"] == message("request.malformed", language)


def _deadline_runs_from_each_request(port: int) -> None:
    """A connection busy for longer than the deadline is not cut: the deadline runs from each
    request's first byte. Its next head, sent half, gets 408 at that head's deadline."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        busy_since = time.monotonic()
        while time.monotonic() - busy_since < HEADER_TIMEOUT * 1.5:
            connection.sendall(b"GET /health HTTP/1.1\r\nHost: panda.test\r\n\r\n")
            assert _status(_read_response(connection)) == 200
            time.sleep(0.4)
        connection.sendall(HALF_SENT)
        half_sent = time.monotonic()
        answer = _read_to_end(connection, timeout=HEADER_TIMEOUT + 3)
        waited = time.monotonic() - half_sent
    assert _status(answer) == 408
    assert HEADER_TIMEOUT - 0.3 < waited < HEADER_TIMEOUT + 1.5, waited


def _hang_up(connection: socket.socket) -> None:
    """Close our side and wait until the server has dropped the connection too."""
    connection.shutdown(socket.SHUT_WR)
    _read_to_end(connection, timeout=5)
    connection.close()


# One server for every phase: starting ``panda api`` is most of this test's time.
@pytest.mark.parametrize("backend", ["postgresql"])
async def test_slow_idle_and_oversized_clients_cannot_exhaust_a_real_server(settings, engine, monkeypatch) -> None:
    monkeypatch.setenv("HEADER_TIMEOUT_SECONDS", str(HEADER_TIMEOUT))
    monkeypatch.setenv("LIMIT_CONCURRENCY", str(CONNECTION_LIMIT))
    with live_api(settings, processes=1) as base_url:
        port = _port(base_url)
        _oversized_heads_get_414_or_431(port)
        _heads_the_parser_refuses_get_a_problem_document(port)
        _deadline_runs_from_each_request(port)

        idle = [_open(port, b"" if i < SILENT_CLIENTS else HALF_SENT) for i in range(IDLE_CLIENTS)]
        opened = time.monotonic()
        extra = [_open(port, HALF_SENT) for _ in range(CONNECTION_LIMIT - IDLE_CLIENTS)]
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
                # Past the connection limit a request is refused at once, not queued behind the idle.
                assert (await _quick(lambda: client.get("/health"))).status_code == 503
                for connection in extra:
                    _hang_up(connection)
                # Below it, hundreds of idle clients keep no one waiting.
                assert (await _quick(lambda: client.get("/health"))).status_code == 200
                number = nhs_number(7)
                registered = await _quick(lambda: client.post("/patients", json=patient_body(number)))
                assert registered.status_code == 201, registered.text
                body = appointment_body(number, now() + dt.timedelta(days=2), clinician="Dr Slow Loris")
                booked = await _quick(lambda: client.post("/appointments", json=body))
                assert booked.status_code == 201, booked.text

            # Every idle connection is dropped at its deadline: a half-sent request with 408, a
            # silent connection quietly; none is still open a little after the deadline.
            answers = [_read_to_end(connection, timeout=HEADER_TIMEOUT + 3) for connection in idle]
            assert time.monotonic() - opened < HEADER_TIMEOUT + 3
            assert set(answers[:SILENT_CLIENTS]) == {b""}
            assert {_status(answer) for answer in answers[SILENT_CLIENTS:]} == {408}
        finally:
            for connection in idle + extra:
                connection.close()
        assert httpx.get(f"{base_url}/health", timeout=5).status_code == 200
