"""A kept-alive connection outlives the client's own idle limit, so a reused connection is never
reset under a request.

httpx (like most clients) reuses a connection idle for up to 5 s. Had the server closed idle
connections at 5 s too, a request sent at that moment would be lost to a reset: seen once as a
``ReadError`` in the 100-client load test.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.http.live_server import live_api

REQUEST = b"GET /health HTTP/1.1\r\nHost: panda\r\n\r\n"
CLIENT_IDLE_LIMIT = httpx.Limits().keepalive_expiry or 5.0


def _answer(connection: socket.socket) -> bytes:
    connection.sendall(REQUEST)
    return connection.recv(65536)


def _closed_by_server(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    finally:
        connection.setblocking(True)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_idle_past_the_clients_limit_still_serves(settings) -> None:
    with live_api(settings, processes=1) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            assert _answer(connection).startswith(b"HTTP/1.1 200")
            time.sleep(CLIENT_IDLE_LIMIT + 1)
            assert not _closed_by_server(connection)
            assert _answer(connection).startswith(b"HTTP/1.1 200")
