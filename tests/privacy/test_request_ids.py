"""A request id is PANDA's own: a client's ``X-Request-ID`` (an NHS number, say) goes nowhere.

The id is logged with every request, returned in ``X-Request-ID`` and in problem documents: a
value a client chose could carry personal data into all of them. A real ``panda api`` process
logging JSON, so every line it writes is read.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from domain.config import Settings
from tests.factories import nhs_number, patient_body
from tests.resilience.stack import Stack

SENT = "9434765919"  # a valid NHS number


@pytest.mark.parametrize("backend", ["sqlite"])  # the middleware is the same on either database
def test_a_client_request_id_is_never_echoed_nor_logged(settings: Settings, engine: object, tmp_path: Path) -> None:
    stack = Stack(tmp_path, settings.database_url, settings.broker_url)
    try:
        base_url = stack.start_api(processes=1)
        headers = {"X-Request-ID": SENT}
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            assert client.post("/patients", json=patient_body(nhs_number(0))).status_code == 201
            responses = [
                client.get("/health"),
                client.get(f"/patients/{nhs_number(0)}"),
                client.get(f"/patients/{nhs_number(1)}"),  # a 404 problem document names the request id
                client.post("/patients", json={}),
                client.get("/no/such/route"),
            ]
    finally:
        stack.stop()

    for response in responses:
        own = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", own), own
        assert response.headers.get_list("x-request-id") == [own]
        assert SENT not in repr(response.headers.multi_items()) + response.text
    assert len({r.headers["x-request-id"] for r in responses}) == len(responses)
    logged = stack.logs()
    assert all(r.headers["x-request-id"] in logged for r in responses), "the access log names PANDA's own id"
    assert SENT not in logged
