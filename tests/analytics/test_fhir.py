"""``/fhir``: FHIR R4 views of every example patient and appointment, validated by ``fhir.resources``.

``fhir.resources`` 8 models R4 as its ``R4B`` package (4.3.0), whose Patient and Appointment are
R4's; R4's Appointment status codes are checked explicitly as well.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient

from panda.examples import example_rows, load_examples
from tests.factories import bad_checksum, nhs_number
from tests.http.helpers import assert_problem, book, create_patient

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
R4_APPOINTMENT_STATUSES = {
    "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error",
    "checked-in", "waitlist",
}  # fmt: skip
STATUS_MAP = {"active": "booked", "attended": "fulfilled", "cancelled": "cancelled", "missed": "noshow"}


async def fhir_json(client, path: str) -> dict:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return dict(response.json())


@pytest.fixture
async def loaded(sessions) -> None:
    await load_examples(sessions)


@pytest.mark.usefixtures("loaded")
async def test_every_example_patient_is_a_valid_r4_patient(client) -> None:
    for row in example_rows("example_patients.json"):
        resource = await fhir_json(client, f"/fhir/Patient/{row['nhs_number']}")
        patient = FhirPatient.model_validate(resource)
        assert patient.id == row["nhs_number"]
        assert [(i.system, i.value) for i in patient.identifier] == [(NHS_SYSTEM, row["nhs_number"])]
        assert patient.name[0].text == row["name"].strip()
        assert patient.name[0].given is None and patient.name[0].family is None  # never split
        assert patient.birthDate.isoformat() == row["date_of_birth"]


@pytest.mark.usefixtures("loaded")
async def test_every_example_appointment_is_a_valid_r4_appointment(client) -> None:
    for row in example_rows("example_appointments.json"):
        resource = await fhir_json(client, f"/fhir/Appointment/{row['id']}")
        appointment = FhirAppointment.model_validate(resource)
        view = (await client.get(f"/appointments/{row['id']}")).json()
        assert appointment.id == row["id"]
        assert appointment.status in R4_APPOINTMENT_STATUSES
        assert appointment.status == STATUS_MAP[view["status"]]
        assert appointment.start == dt.datetime.fromisoformat(row["time"])
        assert appointment.end == dt.datetime.fromisoformat(view["end"])
        assert appointment.minutesDuration == (appointment.end - appointment.start).total_seconds() / 60
        actors = {p.actor.type: p.actor for p in appointment.participant}
        assert actors["Patient"].reference == f"Patient/{row['patient']}"
        assert actors["Patient"].identifier.system == NHS_SYSTEM
        assert actors["Practitioner"].display == row["clinician"]
        assert actors["HealthcareService"].display == row["department"]


async def test_an_erased_patient_is_gone_and_their_appointments_name_no_one(client) -> None:
    number = nhs_number(40)
    await create_patient(client, number)
    past = await book(client, number, dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC), status="attended")
    future = await book(client, number, dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    assert (await fhir_json(client, f"/fhir/Patient/{number}"))["id"] == number
    assert (await client.delete(f"/patients/{number}")).status_code == 204
    assert_problem(await client.get(f"/fhir/Patient/{number}"), 404, "patient.not_found")
    for view, status in ((past, "fulfilled"), (future, "cancelled")):
        resource = await fhir_json(client, f"/fhir/Appointment/{view['id']}")
        FhirAppointment.model_validate(resource)
        assert resource["status"] == status
        assert number not in str(resource)
        assert {p["actor"]["type"] for p in resource["participant"]} == {
            "Practitioner",
            "HealthcareService",
            "Location",
        }


async def test_an_ended_active_appointment_reads_as_noshow(client, engine) -> None:
    number = nhs_number(41)
    await create_patient(client, number)
    view = await book(client, number, dt.datetime(2025, 2, 3, 9, tzinfo=dt.UTC), status="active")
    assert (await fhir_json(client, f"/fhir/Appointment/{view['id']}"))["status"] == "noshow"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"/fhir/Patient/{bad_checksum(nhs_number(0))}", "patient.not_found"),
        ("/fhir/Patient/12", "patient.not_found"),
        (f"/fhir/Patient/{nhs_number(0)}", "patient.not_found"),
        ("/fhir/Appointment/not-a-uuid", "appointment.not_found"),
        ("/fhir/Appointment/00000000-0000-4000-8000-000000000000", "appointment.not_found"),
    ],
)
async def test_malformed_and_unknown_ids_are_404_problems(client, path, code) -> None:
    assert_problem(await client.get(path), 404, code)
