"""Bad requests: the right status, a problem document naming every bad field, and no change stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.factories import bad_checksum, nhs_number, now, patient_body, snapshot
from tests.http.helpers import assert_problem, book, create_patient, field_codes

PATIENT = nhs_number(0)
MIB = 1024 * 1024


@pytest.fixture
async def seeded(client, engine) -> dict[str, Any]:
    """One patient with one future appointment, and the database as it stands."""
    await create_patient(client, PATIENT)
    appointment = await book(client, PATIENT, now() + dt.timedelta(days=1))
    return {"appointment": appointment, "before": await snapshot(engine)}


async def _unchanged(engine, seeded: dict[str, Any]) -> None:
    assert await snapshot(engine) == seeded["before"], "a refused request must change nothing"


RAW_BODIES = [
    (b"{bad json", "body.malformed_json"),
    (b'{"nhs_number": "1"', "body.malformed_json"),
    (b'{"a": 1} trailing', "body.malformed_json"),
    (b"[1, 2]", "body.not_object"),
    (b'"a string"', "body.not_object"),
    (b"null", "body.not_object"),
    (b"42", "body.not_object"),
]


async def test_bodies_that_are_not_json_objects_are_400(client, engine, seeded) -> None:
    appointment_path = f"/appointments/{seeded['appointment']['id']}"
    for method, path in (
        ("POST", "/patients"),
        ("POST", "/appointments"),
        ("PATCH", f"/patients/{PATIENT}"),
        ("PATCH", appointment_path),
    ):
        for raw, code in RAW_BODIES:
            response = await client.request(method, path, content=raw, headers={"content-type": "application/json"})
            problem = assert_problem(response, 400, code)
            assert field_codes(problem) == {"body": code}, (method, path, raw)
    await _unchanged(engine, seeded)


async def test_an_empty_body_is_400_on_the_body(client, engine, seeded) -> None:
    for path in ("/patients", "/appointments"):
        problem = assert_problem(
            await client.post(path, content=b"", headers={"content-type": "application/json"}), 400
        )
        assert set(field_codes(problem)) == {"body"}, problem
    await _unchanged(engine, seeded)


async def test_wrong_types_are_named_field_by_field(client, engine, seeded) -> None:
    body = {"nhs_number": 9434765919, "name": 5, "date_of_birth": 19800101, "postcode": [], "email": 1, "phone": True}
    problem = assert_problem(await client.post("/patients", json=body), 400)
    assert set(field_codes(problem)) == set(body)
    assert problem["detail"] == "6 fields are not valid."
    await _unchanged(engine, seeded)


async def test_every_broken_rule_of_a_patient_is_named_at_once(client, engine, seeded) -> None:
    body = {
        "nhs_number": bad_checksum(nhs_number(3)),
        "name": "   ",
        "date_of_birth": (now() + dt.timedelta(days=2)).date().isoformat(),
        "postcode": "ZZZZ 999",
        "email": "not-an-address",
        "phone": "12",
        "favourite_colour": "blue",
    }
    problem = assert_problem(await client.post("/patients", json=body), 400)
    assert field_codes(problem) == {
        "nhs_number": "nhs_number.checksum",
        "name": "name.empty",
        "date_of_birth": "date_of_birth.future",
        "postcode": "postcode.format",
        "email": "email.format",
        "phone": "phone.format",
        "favourite_colour": "field.unknown",
    }
    await _unchanged(engine, seeded)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "a\u0007b"}, {"name": "name.control_character"}),
        ({"name": "x" * 256}, {"name": "name.too_long"}),
        ({"date_of_birth": "1869-12-31"}, {"date_of_birth": "date_of_birth.too_early"}),
        ({"date_of_birth": "31/12/1980"}, {"date_of_birth": "date_of_birth.format"}),
        ({"postcode": "N6 2FAA"}, {"postcode": "postcode.format"}),
        ({"nhs_number": "123"}, {"nhs_number": "nhs_number.format"}),
        ({"nhs_number": None}, {"nhs_number": "field.required"}),
        ({"name": "a\u2028b"}, {"name": "name.control_character"}),
    ],
)
async def test_single_rules_on_create(client, engine, seeded, changes, expected) -> None:
    body = {k: v for k, v in {**patient_body(nhs_number(5)), **changes}.items() if v is not None}
    problem = assert_problem(await client.post("/patients", json=body), 400, next(iter(expected.values())))
    assert field_codes(problem) == expected
    await _unchanged(engine, seeded)


async def test_every_broken_rule_of_an_appointment_is_named_at_once(client, engine, seeded) -> None:
    body = {
        "id": "not-a-uuid",
        "patient": bad_checksum(PATIENT),
        "status": "booked",
        "time": "2030-01-01T09:00:00",
        "duration": "0m",
        "clinician": "",
        "department": 7,
        "postcode": "12345",
        "notes": "typo field",
    }
    problem = assert_problem(await client.post("/appointments", json=body), 400)
    assert field_codes(problem) == {
        "id": "id.format",
        "patient": "nhs_number.checksum",
        "status": "status.invalid",
        "time": "time.offset_required",
        "duration": "duration.range",
        "clinician": "clinician.empty",
        "department": "department.type",
        "postcode": "postcode.format",
        "notes": "field.unknown",
    }
    assert problem["detail"] == "9 fields are not valid."
    missing = assert_problem(await client.post("/appointments", json={}), 400)
    assert set(field_codes(missing)) == {"patient", "time", "duration", "clinician", "department", "postcode"}
    await _unchanged(engine, seeded)


async def test_bad_patches_are_400_and_change_nothing(client, engine, seeded) -> None:
    patient_path = f"/patients/{PATIENT}"
    problem = assert_problem(await client.patch(patient_path, json={"name": "", "postcode": "x", "nmae": "y"}), 400)
    assert field_codes(problem) == {"name": "name.empty", "postcode": "postcode.format", "nmae": "field.unknown"}
    for required in ("name", "date_of_birth", "postcode"):
        problem = assert_problem(await client.patch(patient_path, json={required: None}), 400)
        assert field_codes(problem) == {required: "field.required"}
    path = f"/appointments/{seeded['appointment']['id']}"
    problem = assert_problem(await client.patch(path, json={"stauts": "cancelled"}), 400)
    assert field_codes(problem) == {"stauts": "field.unknown"}
    problem = assert_problem(await client.patch(path, json={"time": "2030-01-01 09:00", "duration": "forever"}), 400)
    assert set(field_codes(problem)) == {"time", "duration"}
    for required in ("time", "duration", "clinician", "status", "postcode"):
        problem = assert_problem(await client.patch(path, json={required: None}), 400)
        assert field_codes(problem) == {required: "field.required"}
    problem = assert_problem(await client.patch(path, json={"patient": nhs_number(9)}), 400)
    assert field_codes(problem) == {"patient": "patient.immutable"}
    await _unchanged(engine, seeded)


async def test_oversize_body_is_413(client, engine, seeded) -> None:
    filler = "x" * (MIB + 1)
    response = await client.post("/patients", json={**patient_body(nhs_number(6)), "name": filler})
    assert_problem(response, 413, "body.too_large")
    response = await client.patch(f"/patients/{PATIENT}", json={"name": filler})
    assert_problem(response, 413, "body.too_large")
    # Just under the limit the body is read and judged by the rules instead.
    response = await client.post("/patients", json={**patient_body(nhs_number(6)), "name": "x" * (MIB - 200)})
    assert field_codes(assert_problem(response, 400)) == {"name": "name.too_long"}
    await _unchanged(engine, seeded)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/csv"]
)
async def test_wrong_content_type_is_415(client, engine, seeded, content_type) -> None:
    raw = b'{"name": "x"}'
    for method, path in (("POST", "/patients"), ("POST", "/appointments"), ("PATCH", f"/patients/{PATIENT}")):
        response = await client.request(method, path, content=raw, headers={"content-type": content_type})
        assert_problem(response, 415, "content_type.unsupported")
    await _unchanged(engine, seeded)


async def test_json_with_a_charset_or_a_json_suffix_is_accepted(client) -> None:
    response = await client.post(
        "/patients",
        content=b'{"nhs_number": "%s", "name": "A", "date_of_birth": "1990-01-01", "postcode": "N6 2FA"}'
        % PATIENT.encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    response = await client.patch(
        f"/patients/{PATIENT}", content=b'{"name": "B"}', headers={"content-type": "application/merge-patch+json"}
    )
    assert response.status_code == 200, response.text


async def test_impossible_identifiers_in_paths_are_404(client, engine, seeded) -> None:
    for number in (bad_checksum(PATIENT), "12345", "not-a-number", "9" * 11):
        for method in ("GET", "DELETE"):
            assert_problem(await client.request(method, f"/patients/{number}"), 404, "patient.not_found")
        assert_problem(await client.patch(f"/patients/{number}", json={"name": "X"}), 404, "patient.not_found")
        assert_problem(await client.get(f"/patients/{number}/appointments"), 404, "patient.not_found")
    await _unchanged(engine, seeded)


async def test_ids_in_other_scripts_digits_name_nothing(client) -> None:
    """``uuid.UUID`` reads Arabic-Indic digits as ASCII ones: PANDA reads ids in ASCII only."""
    await create_patient(client, PATIENT)
    stored = await book(client, PATIENT, now() + dt.timedelta(days=3), id="11111111-1111-1111-1111-111111111111")
    assert (await client.get(f"/appointments/{stored['id']}")).status_code == 200
    foreign = "\u0661" * 32  # thirty-two Arabic-Indic ones
    for method in ("GET", "DELETE"):
        assert_problem(await client.request(method, f"/appointments/{foreign}"), 404, "appointment.not_found")
    body = {"patient": PATIENT, "time": (now() + dt.timedelta(days=4)).isoformat(), "duration": "15m",
            "clinician": "Dr Jones", "department": "cardiology", "postcode": "N6 2FA", "id": foreign}  # fmt: skip
    assert field_codes(assert_problem(await client.post("/appointments", json=body), 400)) == {"id": "id.format"}
    assert (await client.get(f"/appointments/{stored['id']}")).json() == stored


async def test_unknown_routes_and_methods_get_problem_documents(client) -> None:
    assert_problem(await client.get("/nowhere"), 404, "route.not_found")
    assert_problem(await client.get("/patients/1/2/3"), 404, "route.not_found")
    response = await client.put("/patients")
    assert_problem(response, 405, "method.not_allowed")
    assert response.headers.get("allow") == "GET, HEAD, OPTIONS, POST", response.headers
    assert_problem(await client.post(f"/patients/{PATIENT}"), 405, "method.not_allowed")
    assert_problem(await client.delete("/appointments"), 405, "method.not_allowed")
