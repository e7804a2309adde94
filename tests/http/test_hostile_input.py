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
    ]
    for path, params, field, code in searches:
        assert field_codes(assert_problem(await client.get(path, params=params), 400)) == {field: code}
    assert (await client.get("/patients", params={"name": "Ann"})).status_code == 200


async def test_a_single_error_fills_in_its_message(client) -> None:
    problem = assert_problem(await client.post("/patients", json=patient_body(nhs_number(0), name="x" * 256)), 400)
    assert problem["detail"] == "The name must be at most 255 characters long."


async def test_options_lists_every_method_of_the_path(client) -> None:
    await create_patient(client, nhs_number(0))
    for path, methods in (
        (f"/patients/{nhs_number(0)}", "DELETE, GET, OPTIONS, PATCH"),
        ("/patients", "GET, OPTIONS, POST"),
        ("/appointments", "GET, OPTIONS, POST"),
    ):
        response = await client.options(path)
        assert response.status_code == 204
        assert response.headers["allow"] == methods


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
