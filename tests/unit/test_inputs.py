"""Input models: every field through its rule, unknown fields refused, all bad fields reported at once."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from domain.errors import InvalidInput
from domain.inputs import AppointmentCreate, AppointmentUpdate, PatientCreate, PatientUpdate, parse_input, set_fields
from domain.rules import Status

PATIENT = {"nhs_number": "943 476 5919", "name": " Siân Llŷr ", "date_of_birth": "1990-01-01", "postcode": " sw1a1aa "}
APPOINTMENT = {
    "patient": "9434765919",
    "time": "2025-06-04T16:30:00+01:00",
    "duration": "90m",
    "clinician": "Jason Holloway",
    "department": "oncology",
    "postcode": "UB56 7XQ",
}


def errors_of(model: type, data: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_input(model, data)
    assert caught.value.status == 400
    return {error.field: error.code for error in caught.value.errors}


def test_a_valid_patient_comes_back_normalised() -> None:
    patient = parse_input(PatientCreate, PATIENT)
    assert patient.nhs_number == "9434765919"
    assert patient.name == "Siân Llŷr"
    assert patient.date_of_birth == dt.date(1990, 1, 1)
    assert patient.postcode == "SW1A 1AA"
    assert patient.email is None and patient.phone is None


def test_json_bytes_and_mappings_give_the_same_result() -> None:
    assert parse_input(PatientCreate, json.dumps(PATIENT).encode()) == parse_input(PatientCreate, PATIENT)
    assert parse_input(AppointmentCreate, json.dumps(APPOINTMENT).encode()) == parse_input(
        AppointmentCreate, APPOINTMENT
    )


def test_a_valid_appointment_comes_back_normalised() -> None:
    appointment = parse_input(AppointmentCreate, APPOINTMENT)
    assert appointment.id is None  # the server makes one
    assert appointment.status is Status.ACTIVE  # the default
    assert appointment.time == dt.datetime(2025, 6, 4, 15, 30, tzinfo=dt.UTC)
    assert appointment.duration == 90


def test_a_client_supplied_id_is_kept() -> None:
    supplied = "343d31d4-5993-47ef-a468-7884a467ae80"
    assert parse_input(AppointmentCreate, {**APPOINTMENT, "id": supplied}).id == uuid.UUID(supplied)


@pytest.mark.parametrize("model", [PatientCreate, PatientUpdate])
def test_an_unknown_patient_field_is_named(model: type) -> None:
    assert errors_of(model, {**PATIENT, "nmae": "Ann"}) == {"nmae": "field.unknown"}


@pytest.mark.parametrize("model", [AppointmentCreate, AppointmentUpdate])
def test_an_unknown_appointment_field_is_named(model: type) -> None:
    assert errors_of(model, {**APPOINTMENT, "clincian": "Dr X"}) == {"clincian": "field.unknown"}


def test_missing_required_fields_are_each_reported() -> None:
    assert errors_of(PatientCreate, {}) == dict.fromkeys(
        ["nhs_number", "name", "date_of_birth", "postcode"], "field.required"
    )
    missing = errors_of(AppointmentCreate, {"patient": "9434765919"})
    assert missing == dict.fromkeys(["time", "duration", "clinician", "department", "postcode"], "field.required")


def test_several_bad_patient_fields_are_reported_at_once() -> None:
    bad = {
        "nhs_number": "9434765918",
        "name": "Ann\nSmith",
        "date_of_birth": "2999-01-01",
        "postcode": "nowhere",
        "email": "not-an-email",
        "phone": "call me",
        "age": 35,
    }
    assert errors_of(PatientCreate, bad) == {
        "nhs_number": "nhs_number.checksum",
        "name": "name.control_character",
        "date_of_birth": "date_of_birth.future",
        "postcode": "postcode.format",
        "email": "email.format",
        "phone": "phone.format",
        "age": "field.unknown",
    }


def test_several_bad_appointment_fields_are_reported_at_once() -> None:
    bad = {
        "id": "42",
        "patient": "12345",
        "status": "booked",
        "time": "2025-06-04T16:30:00",
        "duration": "13h",
        "clinician": " ",
        "department": "\x00",
        "postcode": "SW1A",
    }
    assert errors_of(AppointmentCreate, bad) == {
        "id": "id.format",
        "patient": "nhs_number.format",
        "status": "status.invalid",
        "time": "time.offset_required",
        "duration": "duration.range",
        "clinician": "clinician.empty",
        "department": "department.control_character",
        "postcode": "postcode.format",
    }


def test_errors_never_carry_the_rejected_value() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input(
            PatientCreate,
            {"nhs_number": "9434765918", "name": "Zaphod\x00", "date_of_birth": "1869-12-31", "postcode": "ZZ99 ZZZ"},
        )
    rendered = repr(caught.value.errors) + str(caught.value)
    for secret in ("9434765918", "Zaphod", "1869-12-31", "ZZ99"):
        assert secret not in rendered


@pytest.mark.parametrize("body", [b"", b"{", b'{"name": ', b'{"a": 1,}', b"{'name': 'Ann'}", b"\xff\xfe"])
def test_malformed_json_is_reported_as_such(body: bytes) -> None:
    assert errors_of(PatientCreate, body) == {"body": "body.malformed_json"}


@pytest.mark.parametrize("body", [b"[]", b"null", b'"Ann"', b"42"])
def test_a_body_that_is_not_an_object_is_refused(body: bytes) -> None:
    assert errors_of(PatientCreate, body) == {"body": "body.not_object"}


def test_contact_details_are_optional_and_normalised() -> None:
    patient = parse_input(PatientCreate, {**PATIENT, "email": " ann@example.org ", "phone": "07700 900123"})
    assert patient.email == "ann@example.org"
    assert patient.phone == "+447700900123"


def test_partial_update_reports_only_the_fields_sent() -> None:
    update = parse_input(PatientUpdate, b'{"postcode": "m11ae", "email": null}')
    assert set_fields(update) == {"postcode": "M1 1AE", "email": None}
    assert set_fields(parse_input(PatientUpdate, b"{}")) == {}


def test_patient_update_still_checks_each_sent_field() -> None:
    assert errors_of(PatientUpdate, {"name": "", "date_of_birth": "tomorrow"}) == {
        "name": "name.empty",
        "date_of_birth": "date_of_birth.format",
    }


def test_appointment_update_accepts_a_status_change_or_a_reschedule() -> None:
    assert set_fields(parse_input(AppointmentUpdate, {"status": "cancelled"})) == {"status": Status.CANCELLED}
    reschedule = set_fields(parse_input(AppointmentUpdate, {"time": "2025-06-05T09:00:00Z", "duration": "PT45M"}))
    assert reschedule == {"time": dt.datetime(2025, 6, 5, 9, 0, tzinfo=dt.UTC), "duration": 45}


def test_every_example_patient_parses(example_patients: list[dict[str, Any]]) -> None:
    for raw in example_patients:
        patient = parse_input(PatientCreate, json.dumps(raw).encode())
        assert patient.nhs_number == raw["nhs_number"]
        assert patient.name == raw["name"]
        assert patient.postcode == raw["postcode"]
        assert patient.date_of_birth.isoformat() == raw["date_of_birth"]


def test_every_example_appointment_parses(example_appointments: list[dict[str, Any]]) -> None:
    for raw in example_appointments:
        appointment = parse_input(AppointmentCreate, json.dumps(raw).encode())
        assert str(appointment.id) == raw["id"]
        assert appointment.patient == raw["patient"]
        assert appointment.status.value == raw["status"]
        assert appointment.time == dt.datetime.fromisoformat(raw["time"])
        assert appointment.clinician == raw["clinician"]
