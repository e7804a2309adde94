"""The query of every paginated list: ``limit`` and ``offset`` are plain decimal numbers, and one
400 names every bad query field at once, pagination and filters alike (SPEC §4, §5)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.factories import nhs_number
from tests.http.helpers import assert_problem, create_patient, field_codes

# Path parameters of the sub-lists: well formed, naming nothing (pagination is checked first).
PATH_VALUES = {"nhs_number": nhs_number(7), "appointment_id": str(uuid.uuid4()), "job_id": str(uuid.uuid4())}
LISTS_WITHOUT_PATH = ["/patients", "/appointments", "/clinicians", "/departments", "/outbox", "/schedules",
                      "/unavailability", "/audit"]  # fmt: skip

# Each is 400 naming the parameter: digits only, ASCII only, nothing around them.
NOT_WHOLE_NUMBERS = ["1e2", "1.0", "1.", "+5", " 5", "5 ", "-1", "-0", "\u0665", "\uff15", "1_0", "0x10", "", "five",
                     "5\x00", "\u00b2", "1" * 40, "99999999999"]  # fmt: skip


async def list_paths(client: Any) -> list[str]:
    """Every operation of the served schema that takes ``limit``, its path parameters filled in."""
    schema = (await client.get("/schema/openapi.json")).json()
    paths = []
    for path, item in schema["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        if any(p["name"] == "limit" and p["in"] == "query" for p in parameters):
            paths.append(re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path))
    return paths


async def test_every_list_takes_limit_and_offset(client) -> None:
    paths = await list_paths(client)
    assert len(paths) == 13, paths
    assert set(LISTS_WITHOUT_PATH) < set(paths)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_limit_or_offset_that_is_not_plain_digits_is_400_on_every_list(client) -> None:
    for path in await list_paths(client):
        for raw in NOT_WHOLE_NUMBERS:
            for parameter in ("limit", "offset"):
                response = await client.get(path, params={parameter: raw})
                codes = field_codes(assert_problem(response, 400))
                assert codes.get(parameter) == f"query.{parameter}", (path, parameter, raw, codes)


async def test_out_of_range_values_are_400_and_the_bounds_are_accepted(client) -> None:
    for query, field in [("limit=0", "limit"), ("limit=501", "limit"), ("offset=1000000001", "offset")]:
        assert field_codes(assert_problem(await client.get(f"/patients?{query}"), 400)) == {field: f"query.{field}"}
    for query, expected in [("limit=1", (1, 0)), ("limit=500&offset=1000000000", (500, 1_000_000_000))]:
        page = (await client.get(f"/patients?{query}")).json()
        assert (page["limit"], page["offset"]) == expected


async def test_leading_zeros_are_a_plain_number(client) -> None:
    for number in range(3):
        await create_patient(client, nhs_number(number))
    for path in LISTS_WITHOUT_PATH:
        response = await client.get(path, params={"limit": "05", "offset": "000"})
        assert response.status_code == 200, (path, response.text)
        assert (response.json()["limit"], response.json()["offset"]) == (5, 0)
    page = (await client.get("/patients", params={"limit": "0" * 60 + "2", "offset": "01"})).json()
    assert (page["limit"], page["offset"], len(page["items"]), page["total"]) == (2, 1, 2, 3)


async def test_one_400_names_every_bad_query_field_with_the_page(client) -> None:
    cases = [
        ("/appointments?limit=abc&status=bogus", {"limit": "query.limit", "status": "status.invalid"}),
        (
            "/appointments?offset=-1&from=yesterday&clinician=%00&limit=1e2",
            {
                "offset": "query.offset",
                "from": "from.format",
                "clinician": "clinician.control_character",
                "limit": "query.limit",
            },
        ),
        ("/patients?limit=1.0&postcode=nope", {"limit": "query.limit", "postcode": "postcode.format"}),
        ("/patients?name=%00&offset=x", {"name": "name.control_character", "offset": "query.offset"}),
        ("/schedules?limit=0&clinician=%00", {"limit": "query.limit", "clinician": "clinician.control_character"}),
        ("/unavailability?offset=%2B1&to=soon", {"offset": "query.offset", "to": "to.format"}),
        ("/outbox?limit=501&appointment=42", {"limit": "query.limit", "appointment": "id.format"}),
        ("/audit?limit=-5&action=dance", {"limit": "query.limit", "action": "action.invalid"}),
        (
            "/slots?limit=x&department=cardiology&from=2031-01-01T00:00:00Z",
            {"limit": "query.limit", "to": "field.required"},
        ),
    ]
    for url, expected in cases:
        problem = assert_problem(await client.get(url), 400)
        assert field_codes(problem) == expected, url
        assert problem["detail"] == f"{len(expected)} fields are not valid."


async def test_the_page_alone_names_the_page_and_its_message(client) -> None:
    problem = assert_problem(await client.get("/appointments?limit=1e2&offset=1.5"), 400)
    assert field_codes(problem) == {"limit": "query.limit", "offset": "query.offset"}
    problem = assert_problem(await client.get("/appointments?status=active&limit=1.0"), 400, "query.limit")
    assert problem["detail"] == "The limit must be a whole number from 1 to 500."
    welsh = await client.get("/appointments?limit=abc&status=bogus", headers={"Accept-Language": "cy"})
    problem = assert_problem(welsh, 400)
    assert welsh.headers["content-language"] == "cy"
    messages = {error["field"]: error["message"] for error in problem["errors"]}
    assert messages["limit"] != "The limit must be a whole number from 1 to 500.", "the message is in Welsh"


async def test_a_repeated_limit_or_offset_is_400_like_any_repeated_parameter(client) -> None:
    for query, field in [("limit=1&limit=2", "limit"), ("offset=0&offset=0", "offset"), ("status=active&status=missed",
                         "status")]:  # fmt: skip
        problem = assert_problem(await client.get(f"/appointments?{query}"), 400, "query.invalid")
        assert field_codes(problem) == {field: "query.invalid"}


async def test_the_schema_documents_limit_and_offset_as_bounded_integers(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    documented = 0
    for item in schema["paths"].values():
        parameters = {p["name"]: p for p in item.get("get", {}).get("parameters", []) if p["in"] == "query"}
        if "limit" not in parameters:
            continue
        documented += 1
        limit, offset = parameters["limit"], parameters["offset"]
        assert not limit["required"] and not offset["required"]
        assert {k: limit["schema"][k] for k in ("type", "minimum", "maximum", "default")} == {
            "type": "integer", "minimum": 1, "maximum": 500, "default": 50,
        }  # fmt: skip
        assert {k: offset["schema"][k] for k in ("type", "minimum", "maximum", "default")} == {
            "type": "integer", "minimum": 0, "maximum": 1_000_000_000, "default": 0,
        }  # fmt: skip
        assert "oneOf" not in limit["schema"] and "oneOf" not in offset["schema"]
    assert documented == 13


@pytest.mark.parametrize("path", ["/appointments", "/audit"])
async def test_a_range_that_ends_before_it_starts_is_400_as_in_the_reports(client, path: str) -> None:
    backwards = {"from": "2030-01-02T00:00:00+00:00", "to": "2030-01-01T23:59:59+01:00"}
    problem = assert_problem(await client.get(path, params=backwards), 400, "range.order")
    assert field_codes(problem) == {"to": "range.order"}
    both_bad = {**backwards, "limit": "0"}  # named in the same 400 as the page
    assert set(field_codes(assert_problem(await client.get(path, params=both_bad), 400))) == {"to", "limit"}
    one_instant = {"from": "2030-01-01T00:00:00+00:00", "to": "2030-01-01T00:00:00+00:00"}
    assert (await client.get(path, params=one_instant)).status_code == 200
