"""``HEAD`` through the real server: uvicorn checks a response's body against its ``Content-Length``
by the request's method, so the answer must reach it as the answer to a ``HEAD``."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import nhs_number, patient_body
from tests.http.live_server import live_api


@pytest.mark.parametrize("backend", ["postgresql"])
def test_head_keeps_the_connection_and_the_get_s_headers(settings, engine) -> None:
    with live_api(settings, processes=1) as base_url:
        assert httpx.post(f"{base_url}/patients", json=patient_body(nhs_number(0))).status_code == 201
        address = urlsplit(base_url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        path = f"/patients/{nhs_number(0)}"
        connection.request("GET", path)
        got = connection.getresponse()
        body = got.read()
        for _ in range(2):  # on one connection: a HEAD answered wrongly closes it
            connection.request("HEAD", path)
            head = connection.getresponse()
            assert (head.status, head.read()) == (200, b"")
            assert head.getheader("content-length") == str(len(body))
            assert head.getheader("content-type") == got.getheader("content-type")
        connection.request("GET", path)
        again = connection.getresponse()
        assert (again.status, again.read()) == (200, body)
        connection.close()
