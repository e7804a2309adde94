"""Error messages in the client's language, with ``Content-Language``, and never echoing patient data."""

from __future__ import annotations

import pytest

from tests.factories import bad_checksum, nhs_number, patient_body
from tests.http.helpers import assert_problem, create_patient, field_codes

PATIENT = nhs_number(0)
NOT_FOUND = {"en": ("Not found", "No such patient."), "cy": ("Heb ei ganfod", "Nid oes claf o'r fath.")}
NOT_FOUND["fr"] = ("Introuvable", "Patient introuvable.")


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        (None, "en"),
        ("cy", "cy"),
        ("cy-GB", "cy"),
        ("fr", "fr"),
        ("fr-CA,fr;q=0.9", "fr"),
        ("de", "en"),
        ("de, fr;q=0.1", "fr"),
        ("fr;q=0.5, cy;q=0.9", "cy"),
        ("cy;q=0, fr", "fr"),
        ("en;q=0.2, cy;q=0.8", "cy"),
        ("en, cy;q=0.8", "en"),
        ("*", "en"),
        ("garbage;;q=x", "en"),
    ],
)
async def test_language_is_negotiated(client, accept, language) -> None:
    headers = {"accept-language": accept} if accept else {}
    response = await client.get(f"/patients/{PATIENT}", headers=headers)
    problem = assert_problem(response, 404, "patient.not_found")
    assert response.headers["content-language"] == language
    assert (problem["title"], problem["detail"]) == NOT_FOUND[language]


async def test_field_messages_are_localised(client) -> None:
    body = patient_body(bad_checksum(PATIENT))
    english = assert_problem(await client.post("/patients", json=body), 400)
    welsh = assert_problem(await client.post("/patients", json=body, headers={"accept-language": "cy"}), 400)
    french = assert_problem(await client.post("/patients", json=body, headers={"accept-language": "fr"}), 400)
    assert field_codes(english) == field_codes(welsh) == field_codes(french) == {"nhs_number": "nhs_number.checksum"}
    assert welsh["errors"][0]["message"] == "Nid yw hwn yn rif GIG dilys: mae ei ddigid gwirio yn anghywir."
    assert french["errors"][0]["message"].startswith("Ce numéro NHS n'est pas valide")
    assert (english["title"], welsh["title"], french["title"]) == (
        "Invalid input",
        "Mewnbwn annilys",
        "Données non valides",
    )


async def test_every_kind_of_error_is_localised(client) -> None:
    """Each status PANDA answers with has a Welsh title and a Welsh detail."""
    await create_patient(client, PATIENT)
    welsh = {"accept-language": "cy"}
    responses = {
        400: await client.post("/patients", content=b"{", headers={**welsh, "content-type": "application/json"}),
        404: await client.get("/nowhere", headers=welsh),
        405: await client.put("/patients", headers=welsh),
        409: await client.post("/patients", json=patient_body(PATIENT), headers=welsh),
        413: await client.post("/patients", json={"name": "x" * (1024 * 1024 + 1)}, headers=welsh),
        415: await client.post("/patients", content=b"x", headers={**welsh, "content-type": "text/plain"}),
    }
    for status, response in responses.items():
        english = await client.request(
            response.request.method,
            response.request.url,
            content=response.request.content,
            headers={k: v for k, v in response.request.headers.items() if k != "accept-language"},
        )
        welsh_problem, english_problem = assert_problem(response, status), assert_problem(english, status)
        assert response.headers["content-language"] == "cy"
        assert english.headers["content-language"] == "en"
        assert welsh_problem["code"] == english_problem["code"]
        assert welsh_problem["title"] != english_problem["title"], status
        assert welsh_problem["detail"] != english_problem["detail"], status


async def test_errors_never_echo_patient_data(client) -> None:
    name = "Quixotically Zebedee-Fotheringay"
    number = bad_checksum(nhs_number(4))
    body = {"nhs_number": number, "name": f"{name}\u0007", "date_of_birth": "1871-02-03x", "postcode": "QX99 ZZZZ"}
    body |= {"email": "zebedee.secret@nowhere", "phone": "+44 1 zebedee"}
    response = await client.post("/patients", json=body)
    assert_problem(response, 400)
    for value in (name, "Quixotically", number, "1871-02-03", "QX99", "zebedee.secret", "+44 1"):
        assert value not in response.text, value
    await create_patient(client, PATIENT, name=name)
    for response in (
        await client.post("/patients", json=patient_body(PATIENT, name=name)),
        await client.get(f"/patients/{nhs_number(4)}"),
        await client.get(f"/patients/{number}"),
        await client.patch(f"/patients/{PATIENT}", json={"nhs_number": nhs_number(4)}),
    ):
        assert response.status_code >= 400
        for value in (name, PATIENT, nhs_number(4), number):
            assert value not in response.text, (response.status_code, value)
