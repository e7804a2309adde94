"""SPEC §11 on patients: ``reminder_preference`` and ``language`` through the API, the bulk import
and the FHIR view, with the rule that a preference needs the contact detail it uses."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient as FhirPatient

from tests.factories import nhs_number
from tests.http.helpers import assert_problem, create_patient, field_codes
from tests.jobs.helpers import encode, errors, run_job

MOBILE = "07700 900123"
LANDLINE = "020 7946 0000"


async def test_a_new_patient_has_no_preference_and_english(client) -> None:
    patient = await create_patient(client, nhs_number(1))
    assert (patient["reminder_preference"], patient["language"], patient["undeliverable"]) == (None, "en", [])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"email": "ann@example.org", "reminder_preference": "email", "language": "cy"}, ("email", "cy")),
        ({"phone": MOBILE, "reminder_preference": "sms"}, ("sms", "en")),
        ({"reminder_preference": "none", "language": "en"}, ("none", "en")),
    ],
)
async def test_preference_and_language_are_stored_and_shown(
    client, fields: dict[str, Any], expected: tuple[str, str]
) -> None:
    created = await create_patient(client, nhs_number(1), **fields)
    read = (await client.get(f"/patients/{nhs_number(1)}")).json()
    assert (created["reminder_preference"], created["language"]) == expected
    assert (read["reminder_preference"], read["language"]) == expected


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"reminder_preference": "post"}, {"reminder_preference": "reminder_preference.invalid"}),
        ({"reminder_preference": "EMAIL"}, {"reminder_preference": "reminder_preference.invalid"}),
        ({"language": "fr"}, {"language": "language.invalid"}),
        ({"reminder_preference": "sms", "phone": LANDLINE}, {"phone": "phone.not_uk_mobile"}),
        ({"reminder_preference": "sms"}, {"phone": "phone.not_uk_mobile"}),
        ({"reminder_preference": "email", "phone": MOBILE}, {"email": "email.required_for_reminders"}),
    ],
)
async def test_bad_preferences_are_400_naming_the_field_and_store_nothing(
    client, fields: dict[str, Any], codes: dict[str, str]
) -> None:
    response = await client.post(
        "/patients",
        json={"nhs_number": nhs_number(1), "name": "A", "date_of_birth": "1980-01-01", "postcode": "N6 2FA", **fields},
        headers={"Accept-Language": "cy"},
    )
    problem = assert_problem(response, 400)
    assert field_codes(problem) == codes
    assert response.headers["content-language"] == "cy"
    assert (await client.get("/patients")).json()["total"] == 0


async def test_patch_changes_preference_and_language_and_null_restores_the_default_rule(client) -> None:
    await create_patient(client, nhs_number(1), phone=MOBILE)
    url = f"/patients/{nhs_number(1)}"

    changed = (await client.patch(url, json={"reminder_preference": "sms", "language": "cy"})).json()
    assert (changed["reminder_preference"], changed["language"]) == ("sms", "cy")
    assert (await client.patch(url, json={"reminder_preference": "none"})).json()["reminder_preference"] == "none"
    assert (await client.patch(url, json={"reminder_preference": None})).json()["reminder_preference"] is None

    problem = assert_problem(await client.patch(url, json={"language": None}), 400)
    assert field_codes(problem) == {"language": "field.required"}


async def test_patch_cannot_leave_a_preference_without_its_contact(client) -> None:
    await create_patient(client, nhs_number(1), phone=MOBILE, reminder_preference="sms")
    url = f"/patients/{nhs_number(1)}"

    problem = assert_problem(await client.patch(url, json={"phone": LANDLINE}), 400)
    assert field_codes(problem) == {"phone": "phone.not_uk_mobile"}
    problem = assert_problem(await client.patch(url, json={"reminder_preference": "email"}), 400)
    assert field_codes(problem) == {"email": "email.required_for_reminders"}
    assert (await client.get(url)).json()["phone"] == "+447700900123"


async def test_the_fhir_patient_states_the_language_of_communication(client) -> None:
    await create_patient(client, nhs_number(1), language="cy")
    response = await client.get(f"/fhir/Patient/{nhs_number(1)}")
    patient = FhirPatient.model_validate(response.json())
    [communication] = patient.communication
    assert communication.preferred is True
    assert [(c.system, c.code) for c in communication.language.coding] == [("urn:ietf:bcp:47", "cy")]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_the_bulk_import_takes_the_same_fields_under_the_same_rules(client, sessions, settings, fmt: str) -> None:
    base = {"name": "A", "date_of_birth": "1980-01-01", "postcode": "N6 2FA"}
    rows = [
        {**base, "nhs_number": nhs_number(1), "phone": MOBILE, "reminder_preference": "sms", "language": "cy"},
        {**base, "nhs_number": nhs_number(2), "reminder_preference": "none"},
        {**base, "nhs_number": nhs_number(3), "phone": LANDLINE, "reminder_preference": "sms"},
        {**base, "nhs_number": nhs_number(4), "language": "de"},
        {**base, "nhs_number": nhs_number(5)},
    ]
    fields = ["nhs_number", "name", "date_of_birth", "postcode", "phone", "reminder_preference", "language"]

    job = await run_job(client, sessions, settings, "patients", "import", encode(rows, fmt, fields), fmt)

    assert (job["valid"], job["invalid"], job["imported"]) == (3, 2, 3)
    assert [(e["row"], e["field"], e["code"]) for e in await errors(client, job["id"])] == [
        (3, "phone", "phone.not_uk_mobile"),
        (4, "language", "language.invalid"),
    ]
    stored = {p["nhs_number"]: p for p in (await client.get("/patients")).json()["items"]}
    assert (stored[nhs_number(1)]["reminder_preference"], stored[nhs_number(1)]["language"]) == ("sms", "cy")
    assert (stored[nhs_number(2)]["reminder_preference"], stored[nhs_number(2)]["language"]) == ("none", "en")
    assert (stored[nhs_number(5)]["reminder_preference"], stored[nhs_number(5)]["language"]) == (None, "en")
