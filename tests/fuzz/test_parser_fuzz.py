"""The JSON body parser of a running PANDA, fuzzed: raw bytes, JSON trees of random depth and
width, and well-shaped bodies whose fields hold such trees. Not one answer is a 5xx.

Derandomised and bounded (a few hundred requests per test), so CI sees the same inputs each run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import Seeded

BOUNDED = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
TOKENS = [b"[", b"]", b"{", b"}", b'"', b"\\", b"\\u", b"d800", b"dc00", b":", b",", b"1e999", b"-", b"0", b".5",
          b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\x00", b"null", b"NaN", b"Infinity", b" ", b'"name"',
          b"9" * 400]  # fmt: skip
PATIENT_FIELDS = ["nhs_number", "name", "date_of_birth", "postcode", "email", "phone"]
APPOINTMENT_FIELDS = ["patient", "status", "time", "duration", "clinician", "department", "postcode", "id"]

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()  # NaN and the infinities included: json.dumps writes them as NaN/Infinity
    | st.text(max_size=20)  # lone surrogates included: written as \\udXXX escapes or raw
)
trees = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
    max_leaves=40,
)


@pytest.fixture(scope="module")
def api(seeded_api: Seeded) -> Iterator[tuple[httpx.Client, list[tuple[str, str]]]]:
    """A client of the running API, and the body-taking routes (PATCH on seeded records)."""
    routes = [
        ("POST", "/patients"),
        ("POST", "/appointments"),
        ("PATCH", f"/patients/{seeded_api.nhs_numbers[0]}"),
        ("PATCH", f"/appointments/{seeded_api.appointment_ids[0]}"),
    ]
    with httpx.Client(base_url=seeded_api.base_url, timeout=30) as client:
        yield client, routes
        assert client.get("/health").status_code == 200, "the server goes on serving"


def _send(api: tuple[httpx.Client, list[tuple[str, str]]], route: int, body: bytes) -> None:
    client, routes = api
    method, path = routes[route % len(routes)]
    response = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (method, path, body[:200], response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


def _encode(value: Any, ascii_only: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")  # a raw lone surrogate becomes invalid UTF-8


raw_bodies = (
    st.binary(max_size=600)
    | st.lists(st.sampled_from(TOKENS), max_size=60).map(b"".join)
    | st.binary(max_size=40).map(lambda raw: b'{"name":"' + raw + b'"}')  # any bytes inside a string
)


@BOUNDED
@given(body=raw_bodies, route=st.integers(0, 3))
def test_raw_bytes_never_get_a_server_error(api, body: bytes, route: int) -> None:
    _send(api, route, body)


@BOUNDED
@given(tree=trees, depth=st.integers(0, 4000), brace=st.booleans(), ascii_only=st.booleans(), route=st.integers(0, 3))
def test_json_trees_of_any_depth_and_width_never_get_a_server_error(
    api, tree: Any, depth: int, brace: bool, ascii_only: bool, route: int
) -> None:
    inner = _encode(tree, ascii_only)
    opening, closing = (b'{"name":', b"}") if brace else (b"[", b"]")
    _send(api, route, opening * depth + inner + closing * depth)


@BOUNDED
@given(
    fields=st.dictionaries(st.sampled_from(PATIENT_FIELDS + APPOINTMENT_FIELDS), trees, max_size=8),
    ascii_only=st.booleans(),
    route=st.integers(0, 3),
)
def test_bodies_with_any_value_in_any_field_never_get_a_server_error(
    api, fields: dict[str, Any], ascii_only: bool, route: int
) -> None:
    _send(api, route, _encode(fields, ascii_only))
