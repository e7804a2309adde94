"""``/patients`` over HTTP: register, read, list and filter, correct, erase."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from tests.factories import appointment_body, dashed, nhs_number, now, patient_body, spaced
from tests.http.helpers import assert_problem, book, create_patient, field_codes

NUMBER = nhs_number(0)


async def test_create_returns_201_with_location_and_the_stored_patient(client) -> None:
    response = await client.post(
        "/patients",
        json={"nhs_number": NUMBER, "name": "  Siân O'Brien-Ŵyn ", "date_of_birth": "1980-05-17", "postcode": " n62fa"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/patients/{NUMBER}"
    body = response.json()
    assert body["nhs_number"] == NUMBER
    assert body["name"] == "Siân O'Brien-Ŵyn"
    assert body["date_of_birth"] == "1980-05-17"
    assert body["postcode"] == "N6 2FA"
    assert body["email"] is None and body["phone"] is None
    assert (await client.get(response.headers["location"])).json() == body


@pytest.mark.parametrize("written", [spaced(NUMBER), dashed(NUMBER), f" {NUMBER} "])
async def test_nhs_number_in_any_format_on_create_and_in_the_path(client, written) -> None:
    created = await create_patient(client, written)
    assert created["nhs_number"] == NUMBER
    for path_form in (NUMBER, spaced(NUMBER), dashed(NUMBER)):
        response = await client.get(f"/patients/{path_form}")
        assert response.status_code == 200, path_form
        assert response.json()["nhs_number"] == NUMBER


async def test_duplicate_nhs_number_is_409_even_in_another_format(client) -> None:
    await create_patient(client, NUMBER, name="First")
    response = await client.post("/patients", json={**_body(spaced(NUMBER)), "name": "Second"})
    assert_problem(response, 409, "patient.duplicate")
    assert (await client.get(f"/patients/{NUMBER}")).json()["name"] == "First"


async def test_unknown_patient_is_404(client) -> None:
    assert_problem(await client.get(f"/patients/{nhs_number(1)}"), 404, "patient.not_found")


async def test_list_is_paginated_with_defaults_and_limits(client) -> None:
    numbers = [nhs_number(i) for i in range(7)]
    for number in numbers:
        await create_patient(client, number)
    page = (await client.get("/patients")).json()
    assert (page["total"], page["limit"], page["offset"]) == (7, 50, 0)
    assert [p["nhs_number"] for p in page["items"]] == numbers
    page = (await client.get("/patients", params={"limit": 3, "offset": 3})).json()
    assert [p["nhs_number"] for p in page["items"]] == numbers[3:6]
    assert (page["total"], page["limit"], page["offset"]) == (7, 3, 3)
    page = (await client.get("/patients", params={"limit": 500, "offset": 6})).json()
    assert [p["nhs_number"] for p in page["items"]] == numbers[6:]
    page = (await client.get("/patients", params={"offset": 100})).json()
    assert page["items"] == [] and page["total"] == 7


BAD_PAGES = [("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("offset=-1", "offset")]


async def test_bad_pagination_is_400_naming_the_parameter_on_every_list(client) -> None:
    await create_patient(client, NUMBER)
    for path in ("/patients", "/appointments", f"/patients/{NUMBER}/appointments", "/clinicians", "/departments"):
        for query, field in [*BAD_PAGES, ("offset=x", "offset"), ("limit=1.5", "limit")]:
            problem = assert_problem(await client.get(f"{path}?{query}"), 400)
            assert field in field_codes(problem), (path, query, problem)


NAMES = ["आरव डार", "कुलकर्णी, तृष्णा", "张阳", "Gwenllian ap Rhŷs", "Dafydd Ŵyn", "Anna Straße", "Zoë O'Neill"]


SEARCHES = [
    ("डार", ["आरव डार"]),
    ("तृष्णा", ["कुलकर्णी, तृष्णा"]),
    ("张", ["张阳"]),
    ("RHŶS", ["Gwenllian ap Rhŷs"]),
    ("ŵyn", ["Dafydd Ŵyn"]),
    ("STRASSE", ["Anna Straße"]),
    ("straße", ["Anna Straße"]),
    ("zoë o'", ["Zoë O'Neill"]),
    ("zoe\u0308", ["Zoë O'Neill"]),
    ("%", []),
    ("_", []),
    ("a", ["Gwenllian ap Rhŷs", "Dafydd Ŵyn", "Anna Straße"]),
]


async def test_name_filter_is_a_case_folded_substring_in_any_script(client) -> None:
    for index, name in enumerate(NAMES):
        await create_patient(client, nhs_number(index), name=name)
    for search, expected in SEARCHES:
        page = (await client.get("/patients", params={"name": search})).json()
        assert sorted(p["name"] for p in page["items"]) == sorted(expected), search
        assert page["total"] == len(expected), search


async def test_postcode_filter_is_exact_after_coercion(client) -> None:
    await create_patient(client, nhs_number(0), postcode="N6 2FA")
    await create_patient(client, nhs_number(1), postcode="N6 2FB")
    await create_patient(client, nhs_number(2), postcode="SW1A 1AA")
    for query in ("n62fa", " N6  2FA ", "N62FA"):
        page = (await client.get("/patients", params={"postcode": query})).json()
        assert [p["nhs_number"] for p in page["items"]] == [nhs_number(0)], query
    assert (await client.get("/patients", params={"postcode": "N6"})).status_code == 400
    page = (await client.get("/patients", params={"postcode": "sw1a1aa", "name": "test"})).json()
    assert [p["nhs_number"] for p in page["items"]] == [nhs_number(2)]


async def test_patch_updates_only_the_fields_sent(client) -> None:
    created = await create_patient(client, NUMBER)
    changes = {
        "name": " 刘桂荣 ",
        "postcode": "sw1a1aa",
        "date_of_birth": "1955-01-31",
        "email": "someone@example.org",
        "phone": "07700 900123",
    }
    for field, value in changes.items():
        response = await client.patch(f"/patients/{dashed(NUMBER)}", json={field: value})
        assert response.status_code == 200, response.text
    body = (await client.get(f"/patients/{NUMBER}")).json()
    assert body["name"] == "刘桂荣"
    assert body["postcode"] == "SW1A 1AA"
    assert body["date_of_birth"] == "1955-01-31"
    assert body["email"] == "someone@example.org"
    assert body["phone"] == "+447700900123"
    assert body["created_at"] == created["created_at"]
    assert (await client.get("/patients", params={"name": "桂"})).json()["total"] == 1


async def test_patch_can_clear_contact_details(client) -> None:
    await create_patient(client, NUMBER, email="someone@example.org", phone="+447700900123")
    response = await client.patch(f"/patients/{NUMBER}", json={"email": None, "phone": None})
    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["phone"]) == (None, None)


async def test_patch_cannot_change_the_nhs_number(client) -> None:
    await create_patient(client, NUMBER)
    problem = assert_problem(await client.patch(f"/patients/{NUMBER}", json={"nhs_number": nhs_number(1)}), 400)
    assert field_codes(problem) == {"nhs_number": "nhs_number.immutable"}
    response = await client.patch(f"/patients/{NUMBER}", json={"nhs_number": spaced(NUMBER), "name": "Renamed"})
    assert response.status_code == 200, response.text
    assert response.json()["nhs_number"] == NUMBER
    assert (await client.get(f"/patients/{nhs_number(1)}")).status_code == 404


async def test_patch_of_unknown_patient_is_404(client) -> None:
    assert_problem(await client.patch(f"/patients/{NUMBER}", json={"name": "X"}), 404, "patient.not_found")


async def test_delete_is_204_then_404(client) -> None:
    await create_patient(client, NUMBER)
    response = await client.delete(f"/patients/{spaced(NUMBER)}")
    assert response.status_code == 204
    assert not response.content
    assert_problem(await client.get(f"/patients/{NUMBER}"), 404, "patient.not_found")
    assert_problem(await client.delete(f"/patients/{NUMBER}"), 404, "patient.not_found")
    assert (await client.get("/patients", params={"name": "test"})).json()["total"] == 0


async def test_erasure_cancels_unfinished_appointments_and_de_identifies_ended_ones(client) -> None:
    await create_patient(client, NUMBER)
    start = now()
    future = await book(client, NUMBER, start + dt.timedelta(days=2))
    ongoing = await book(client, NUMBER, start - dt.timedelta(minutes=10), clinician="Dr Ongoing")
    attended = await book(client, NUMBER, start - dt.timedelta(days=3), status="attended")
    missed = await book(client, NUMBER, start - dt.timedelta(days=2))
    assert missed["status"] == "missed"

    assert (await client.delete(f"/patients/{NUMBER}")).status_code == 204

    expected = {
        future["id"]: "cancelled",
        ongoing["id"]: "cancelled",
        attended["id"]: "attended",
        missed["id"]: "missed",
    }
    for appointment_id, status in expected.items():
        body = (await client.get(f"/appointments/{appointment_id}")).json()
        assert (body["status"], body["patient"]) == (status, None), body
    assert_problem(await client.get(f"/patients/{NUMBER}/appointments"), 404, "patient.not_found")
    assert (await client.get("/appointments", params={"patient": NUMBER})).json()["total"] == 0
    clinicians = (await client.get("/clinicians")).json()["items"]
    assert {c["name"]: c["appointments"] for c in clinicians} == {"Dr Jones": 3, "Dr Ongoing": 1}

    # The same person registering again starts with no history.
    await create_patient(client, NUMBER)
    assert (await client.get(f"/patients/{NUMBER}/appointments")).json()["total"] == 0
    slot = await client.post("/appointments", json=appointment_body(NUMBER, start + dt.timedelta(days=2)))
    assert slot.status_code == 201, "a cancelled appointment no longer blocks its slot"


def _body(number: str) -> dict[str, str]:
    return {"nhs_number": number, "name": "Test Patient", "date_of_birth": "1980-05-17", "postcode": "N6 2FA"}


EXACT_NAMES = [
    "👩🏽\u200d⚕️ Nurse Emoji",
    "O'Brien-Smyth, Siân",
    "शिरोळे, हनुमान्",
    "陈坤",
    "Ŵyn ap Ŷr",
    "क्\u200dष",
    "😀" * 255,
]


async def test_names_are_returned_exactly_as_given_after_nfc(client) -> None:
    for index, name in enumerate([*EXACT_NAMES, "Zoe\u0308 Decomposed"]):
        created = await create_patient(client, nhs_number(index), name=name)
        assert created["name"] == unicodedata.normalize("NFC", name)
        assert (await client.get(f"/patients/{nhs_number(index)}")).json()["name"] == created["name"]
    too_long = await client.post("/patients", json=_body(nhs_number(20)) | {"name": "😀" * 256})
    assert field_codes(assert_problem(too_long, 400)) == {"name": "name.too_long"}


# Awkward but valid: combining marks (NFC-normalised), emoji with joiners, right-to-left text,
# surrounding spaces (trimmed), apostrophes and quotes, the longest name allowed.
_NAMES = ["Zoë Ángel", "Zoe\u0308 Ma\u0301rquez", " 👩‍⚕️ Dr Nobody ", "محمد علي", 'O\'Brien "Jr"', "李小龍", "x" * 255]
_CONTACTS = [
    {},
    {"email": " Someone.Name+tag@Example.NHS.uk "},
    {"phone": "07700 900123", "reminder_preference": "sms"},
    {"phone": "+44 7700 900456", "email": "a@b.co", "reminder_preference": "email", "language": "cy"},
    {"reminder_preference": "none", "language": "en"},
]


async def test_a_registration_answers_exactly_what_a_later_read_shows(client) -> None:
    """The answer to ``POST /patients`` is built from the values written, not read back: it must
    equal what ``GET`` later shows, whatever the input's form, field for field (times included)."""
    for index, (name, contact) in enumerate((n, c) for n in _NAMES for c in _CONTACTS):
        written = [spaced, dashed, str][index % 3](nhs_number(100 + index))
        body = patient_body(written, name=name, date_of_birth=f"{1900 + index}-0{1 + index % 9}-1{index % 10}",
                            postcode=[" sw1a1aa", "N6 2FA", "ec1a 1bb"][index % 3], **contact)  # fmt: skip
        response = await client.post("/patients", json=body)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["created_at"] == created["updated_at"]
        assert (await client.get(response.headers["location"])).json() == created, body
