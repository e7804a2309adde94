"""What the fuzzer found, kept found: each of these once gave a 500, a wrong answer or a wrong schema."""

from __future__ import annotations

from tests.factories import nhs_number, patient_body
from tests.http.helpers import PROBLEM_JSON, assert_problem, create_patient, field_codes


async def test_an_offset_beyond_any_list_is_400_not_a_database_overflow(client) -> None:
    for path in ("/patients", "/appointments", "/clinicians", "/departments", "/outbox"):
        problem = assert_problem(await client.get(path, params={"offset": 10**26}), 400, "query.offset")
        assert problem["detail"] == "The offset must be a whole number from 0 to 1000000000."
    assert (await client.get("/patients", params={"offset": 1_000_000_000})).status_code == 200


async def test_a_query_parameter_given_twice_is_refused_not_half_read(client) -> None:
    response = await client.get("/appointments?status=active&status=missed&limit=5")
    assert field_codes(assert_problem(response, 400)) == {"status": "query.invalid"}
    assert (await client.get("/appointments?unread=1&unread=2")).status_code == 200, "unknown parameters are ignored"
    for path, parameter in (("/patients?name=a&name=b", "name"), ("/clinicians?limit=1&limit=2", "limit"),
                            ("/analytics/missed?period=day&period=week", "period")):  # fmt: skip
        assert field_codes(assert_problem(await client.get(path), 400)) == {parameter: "query.invalid"}, path


async def test_control_characters_in_a_search_are_400(client) -> None:
    """PostgreSQL refuses NUL in text: unchecked, a search for one was a 500."""
    searches = [
        ("/patients", {"name": "Ann\x00"}, "name", "name.control_character"),
        ("/appointments", {"clinician": "Dr\x00"}, "clinician", "clinician.control_character"),
        ("/appointments", {"department": "x\x1f"}, "department", "department.control_character"),
        ("/insight", {"department": "\x00"}, "department", "department.control_character"),
        ("/audit", {"actor": "x\x00"}, "actor", "actor.control_character"),
        ("/audit", {"resource_id": "\x00"}, "resource_id", "resource_id.control_character"),
    ]
    for path, params, field, code in searches:
        assert field_codes(assert_problem(await client.get(path, params=params), 400)) == {field: code}
    assert (await client.get("/patients", params={"name": "Ann"})).status_code == 200


async def test_range_bounds_at_the_ends_of_the_calendar_are_400_not_an_overflow(client) -> None:
    """A bare date skipped the years check: London midnight of 0001-01-01 or a week past 9999-12-30
    overflowed Python's dates (a 500) in /insight and /fhir/Slot."""
    schedule = {"clinician": "Dr Edge", "department": "Neurology", "postcode": "N6 2FA", "weekdays": ["mon"],
                "start": "09:00", "end": "12:00"}  # fmt: skip
    created = await client.post("/schedules", json=schedule)
    assert created.status_code == 201, created.text
    searches = [
        ("/insight", {"to": "0001-01-01"}, {"to": "to.range"}),
        ("/insight", {"from": "9999-12-30", "to": "9999-12-31"}, {"from": "from.range", "to": "to.range"}),
        ("/analytics/missed", {"from": "0001-01-01"}, {"from": "from.range"}),
        ("/analytics/missed", {"to": "9999-12-31T00:00:00Z"}, {"to": "to.range"}),
        # Both FHIR bounds are named "start": the last one is the one kept here.
        (
            "/fhir/Slot",
            {"schedule": created.json()["id"], "start": ["ge9999-12-30", "lt9999-12-31"]},
            {"start": "to.range"},
        ),
    ]
    for path, params, codes in searches:
        problem = assert_problem(await client.get(path, params=params), 400)
        assert field_codes(problem) == codes, (path, params)
    assert (await client.get("/insight", params={"from": "1900-01-01", "to": "2999-12-31"})).status_code == 200


async def test_a_single_error_fills_in_its_message(client) -> None:
    problem = assert_problem(await client.post("/patients", json=patient_body(nhs_number(0), name="x" * 256)), 400)
    assert problem["detail"] == "The name must be at most 255 characters long."


async def test_options_lists_every_method_of_the_path(client) -> None:
    await create_patient(client, nhs_number(0))
    for path, methods in (
        (f"/patients/{nhs_number(0)}", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/patients", "GET, HEAD, OPTIONS, POST"),
        ("/appointments", "GET, HEAD, OPTIONS, POST"),
        ("/slots/holds", "OPTIONS, POST"),
    ):
        response = await client.options(path)
        assert response.status_code == 204
        assert response.headers["allow"] == methods


async def test_head_answers_as_get_without_a_body(client) -> None:
    await create_patient(client, nhs_number(0))
    for path in (f"/patients/{nhs_number(0)}", "/patients?name=test", "/health", "/schema/openapi.json"):
        got, head = await client.get(path), await client.head(path)
        assert (head.status_code, head.content) == (got.status_code, b""), path
        assert head.headers["content-length"] == str(len(got.content)), path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert len(head.headers["x-request-id"]) == 32
    missing = await client.head(f"/patients/{nhs_number(1)}")
    assert (missing.status_code, missing.content) == (404, b"")
    assert missing.headers["content-type"].startswith("application/problem+json")
    no_get = await client.head("/slots/holds")
    assert (no_get.status_code, no_get.content) == (405, b"")
    assert "GET" not in no_get.headers["allow"]


async def test_the_schema_documents_errors_and_inputs_as_they_are(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    create = schema["paths"]["/patients"]["post"]["responses"]
    assert set(create) == {"201", "400", "409", "413", "415", "503"}
    assert list(create["400"]["content"]) == [PROBLEM_JSON]
    assert create["400"]["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    problem = schema["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert set(problem["properties"]["errors"]["items"]["required"]) == {"field", "code", "message"}
    assert set(schema["paths"]["/health"]["get"]["responses"]) == {"200"}
    components = schema["components"]["schemas"]
    assert components["AppointmentCreate"]["properties"]["duration"]["type"] == "string"
    assert all(components[name]["additionalProperties"] is False for name in ("PatientCreate", "AppointmentUpdate"))
    assert components["PatientUpdate"]["properties"]["name"] == {"type": "string", "maxLength": 255, "minLength": 1}


# Bodies that are not JSON PANDA can use, one per way a parser can refuse them. The first two
# raised UnicodeDecodeError and RecursionError inside Litestar's decoder: a 500 each.
MALFORMED_BODIES = {
    "invalid UTF-8 in a string": b'{"name":"\xff"}',
    "invalid UTF-8 in a key": b'{"\xc3\x28":1}',
    "3000 open brackets": b"[" * 3000,
    "3000 nested arrays": b"[" * 3000 + b"]" * 3000,
    "3000 nested objects": b'{"a":' * 3000 + b"1" + b"}" * 3000,
    "a 100,000-digit integer": b'{"name":' + b"9" * 100_000 + b"}",
    "an exponent beyond any float": b'{"name":1e999999}',
    "NaN": b'{"name":NaN}',
    "Infinity": b'{"name":-Infinity}',
    "a lone surrogate escape": b'{"name":"\\ud800"}',
    "a lone surrogate in a key": b'{"\\udc00":"x"}',
    "a byte order mark": b'\xef\xbb\xbf{"name":"x"}',
    "UTF-16": '{"name":"x"}'.encode("utf-16"),
    "a NUL byte": b"\x00",
    "only spaces": b"   ",
    "trailing data": b'{"name":"x"} {}',
    "a truncated object": b'{"name":',
}
BODY_ROUTES = [
    ("POST", "/patients"),
    ("POST", "/appointments"),
    ("PATCH", f"/patients/{nhs_number(0)}"),
    ("PATCH", "/appointments/00000000-0000-0000-0000-000000000000"),
]


async def test_every_malformed_json_body_is_400_malformed_json_and_changes_nothing(client) -> None:
    for label, body in MALFORMED_BODIES.items():
        for method, path in BODY_ROUTES:
            response = await client.request(method, path, content=body, headers={"Content-Type": "application/json"})
            problem = assert_problem(response, 400, "body.malformed_json")
            assert problem["detail"] == "The request body is not valid JSON.", (label, method, path)
            assert field_codes(problem) == {"body": "body.malformed_json"}, (label, method, path)
    assert (await client.get("/patients")).json()["total"] == 0
    await create_patient(client, nhs_number(0))  # and the server goes on serving


async def test_a_malformed_body_is_explained_in_the_clients_language(client) -> None:
    for language, detail in (
        ("cy", "Nid yw corff y cais yn JSON dilys."),
        ("fr", "Le corps de la requête n'est pas un JSON valide."),
    ):
        for body in (MALFORMED_BODIES["invalid UTF-8 in a string"], MALFORMED_BODIES["3000 open brackets"]):
            response = await client.post(
                "/patients", content=body, headers={"Content-Type": "application/json", "Accept-Language": language}
            )
            assert assert_problem(response, 400, "body.malformed_json")["detail"] == detail
            assert response.headers["content-language"] == language


async def test_deep_but_decodable_nesting_inside_a_field_is_a_rule_error(client) -> None:
    """Nesting the decoder accepts still reaches the models: the field is of the wrong type, not a 500."""
    for depth in (10, 200, 400):
        nested = b"[" * depth + b"]" * depth
        body = b'{"nhs_number":"' + nhs_number(1).encode() + b'","name":' + nested + b"}"
        response = await client.post("/patients", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (depth, response.text)
        assert response.json()["code"] != "server.error"
