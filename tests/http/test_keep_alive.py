"""A kept-alive connection outlives the client's own idle limit, so a reused connection is never
reset under a request.

httpx (like most clients) reuses a connection idle for up to 5 s. Had the server closed idle
connections at 5 s too, a request sent at that moment would be lost to a reset: seen once as a
``ReadError`` in the 100-client load test.
"""

from __future__ import annotations

import http.client
import socket
import time

import httpx
import pytest

from tests.http.live_server import live_api

CLIENT_IDLE_LIMIT = httpx.Limits().keepalive_expiry or 5.0


def _health(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/health")
    response = connection.getresponse()
    response.read()
    return response.status


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
        connection = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=10)
        try:
            assert _health(connection) == 200
            time.sleep(CLIENT_IDLE_LIMIT + 1)
            assert connection.sock is not None and not _closed_by_server(connection.sock)
            assert _health(connection) == 200
        finally:
            connection.close()
