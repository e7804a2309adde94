"""FHIR R4 mapping of stored rows, validated by ``fhir.resources`` (R4B models: R4's Patient and Appointment)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient

from domain.fhir import NHS_NUMBER_SYSTEM, appointment_resource, patient_resource

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)
START = dt.datetime(2025, 5, 30, 14, 30, tzinfo=dt.UTC)


def patient_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "nhs_number": "9434765919",
        "name": "Siân O'Brien-Ŵyn 👩‍⚕️",
        "date_of_birth": dt.date(1980, 5, 17),
        "postcode": "SW1A 1AA",
        "email": None,
        "phone": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(overrides)
    return row


def appointment_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": uuid.UUID("01542f70-929f-4c9a-b4fa-e672310d7e78"),
        "nhs_number": "9434765919",
        "status": "attended",
        "starts_at": START,
        "ends_at": START + dt.timedelta(minutes=90),
        "duration_minutes": 90,
        "clinician": "Dr Jordan Lewis",
        "department": "oncology",
        "postcode": "IM2N 4LG",
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(overrides)
    return row


def test_a_patient_keeps_one_unsplit_name_and_the_nhs_number_identifier() -> None:
    resource = patient_resource(patient_row(email="sian@example.org", phone="+447700900123"))
    patient = FhirPatient.model_validate(resource)
    assert patient.id == "9434765919"
    assert (patient.identifier[0].system, patient.identifier[0].value) == (NHS_NUMBER_SYSTEM, "9434765919")
    assert patient.name[0].text == "Siân O'Brien-Ŵyn 👩‍⚕️"
    assert patient.name[0].family is None and not patient.name[0].given
    assert patient.address[0].postalCode == "SW1A 1AA"
    assert [(t.system, t.value) for t in patient.telecom] == [("email", "sian@example.org"), ("phone", "+447700900123")]


def test_a_patient_without_contact_details_has_no_telecom() -> None:
    assert "telecom" not in patient_resource(patient_row())


@pytest.mark.parametrize(
    ("stored", "ends_in", "expected"),
    [
        ("active", dt.timedelta(hours=1), "booked"),
        ("active", -dt.timedelta(minutes=1), "noshow"),  # ended but not yet swept
        ("attended", -dt.timedelta(hours=1), "fulfilled"),
        ("cancelled", dt.timedelta(hours=1), "cancelled"),
        ("missed", -dt.timedelta(hours=1), "noshow"),
    ],
)
def test_statuses_map_to_r4_codes(stored: str, ends_in: dt.timedelta, expected: str) -> None:
    end = NOW + ends_in
    row = appointment_row(status=stored, starts_at=end - dt.timedelta(minutes=30), ends_at=end, duration_minutes=30)
    appointment = FhirAppointment.model_validate(appointment_resource(row, NOW))
    assert appointment.status == expected


def test_an_appointment_names_its_participants_and_times() -> None:
    resource = appointment_resource(appointment_row(), NOW)
    appointment = FhirAppointment.model_validate(resource)
    assert appointment.start == START and appointment.minutesDuration == 90
    assert resource["start"] == "2025-05-30T14:30:00+00:00" and resource["end"] == "2025-05-30T16:00:00+00:00"
    actors = {p.actor.type: p.actor for p in appointment.participant}
    assert actors["Patient"].reference == "Patient/9434765919"
    assert actors["Practitioner"].display == "Dr Jordan Lewis"
    assert actors["HealthcareService"].display == "oncology"
    assert actors["Location"].reference == "#place"
    assert appointment.contained[0].id == "place"


def test_an_erased_patients_appointment_names_no_patient() -> None:
    resource = appointment_resource(appointment_row(nhs_number=None), NOW)
    FhirAppointment.model_validate(resource)
    assert "Patient" not in {p["actor"]["type"] for p in resource["participant"]}
    assert "9434765919" not in str(resource)
