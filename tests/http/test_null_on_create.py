"""On a create, ``null`` for an optional field means the field is left out: its default applies.

Optional fields whose default is "nothing" (``email``, ``phone``, ``reminder_preference``, an
appointment's ``id``) always took ``null``; those with another default (a patient's ``language``,
an appointment's ``status``, a schedule's ``slot``) refused it, so a client sending every field of
its form, unset ones as ``null``, was refused. A partial update keeps its own rule: ``null``
clears a field that may be empty and is refused for the others.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.factories import appointment_body, nhs_number, now, patient_body
from tests.http.helpers import assert_problem, create_patient, field_codes
from tests.http.timetable import schedule_body

NULL_TOLERANT = {
    "PatientCreate": {"email", "phone", "reminder_preference", "language"},
    "AppointmentCreate": {"id", "status", "hold"},
    "ScheduleCreate": {"slot", "valid_from", "valid_to"},
}


async def test_a_patient_s_optional_fields_may_be_null(client) -> None:
    body = patient_body(nhs_number(1), email=None, phone=None, reminder_preference=None, language=None)
    response = await client.post("/patients", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["email"], created["phone"], created["reminder_preference"], created["language"]) == (
        None, None, None, "en",
    )  # fmt: skip
    assert (await client.get(f"/patients/{nhs_number(1)}")).json() == created


async def test_an_appointment_s_status_may_be_null_and_is_active(client) -> None:
    await create_patient(client, nhs_number(1))
    body = appointment_body(nhs_number(1), now() + dt.timedelta(days=2), status=None, id=None, hold=None)
    response = await client.post("/appointments", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"


async def test_a_schedule_s_slot_may_be_null_and_is_the_default(client) -> None:
    response = await client.post("/schedules", json=schedule_body(slot=None, valid_from=None, valid_to=None))
    assert response.status_code == 201, response.text
    assert response.json()["slot"] == "15m"


async def test_null_for_a_required_field_is_still_400_naming_it(client) -> None:
    body: dict[str, Any] = patient_body(nhs_number(1), postcode=None, language=None)
    assert field_codes(assert_problem(await client.post("/patients", json=body), 400)) == {"postcode": "postcode.type"}
    assert (await client.get("/patients")).json()["total"] == 0


async def test_a_patch_still_refuses_null_for_a_field_that_cannot_be_empty(client) -> None:
    await create_patient(client, nhs_number(1), language="cy")
    problem = assert_problem(await client.patch(f"/patients/{nhs_number(1)}", json={"language": None}), 400)
    assert field_codes(problem) == {"language": "field.required"}
    assert (await client.get(f"/patients/{nhs_number(1)}")).json()["language"] == "cy"


async def test_the_schema_shows_which_create_fields_take_null(client) -> None:
    components = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    for model, expected in NULL_TOLERANT.items():
        nullable = {
            name
            for name, field in components[model]["properties"].items()
            if any(branch.get("type") == "null" for branch in field.get("oneOf", []))
        }
        assert nullable == expected, model
    assert "oneOf" not in components["PatientUpdate"]["properties"]["language"]
