"""PANDA's records as FHIR R4 resources (read-only views for the NHS systems around it).

Mapping choices:
- ``Patient.id`` is the NHS number, also carried as an identifier with the NHS number system,
  so ``Patient/{nhs_number}`` references resolve through ``GET /fhir/Patient/{nhs_number}``.
- The name is one free-text field in PANDA, so it maps to ``HumanName.text`` only: it is never
  split into given and family names.
- ``Appointment.status`` follows the *effective* status (an ended ``active`` one is a no-show).
- Participants: the patient (absent once they are erased), the clinician (a ``Practitioner``
  known by name), the department (a ``HealthcareService`` known by name) and the place (a
  contained ``Location`` holding the postcode).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.rules import Status, effective_status, to_utc_iso

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
FHIR_JSON = "application/fhir+json"
APPOINTMENT_STATUS = {
    Status.ACTIVE: "booked",
    Status.ATTENDED: "fulfilled",
    Status.CANCELLED: "cancelled",
    Status.MISSED: "noshow",
}
_PLACE_ID = "place"
# Patient.communication.language is bound to BCP 47 tags (all languages value set).
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
LANGUAGE_NAMES = {"en": "English", "cy": "Welsh"}


def nhs_number_identifier(nhs_number: str) -> dict[str, str]:
    """The NHS number as a FHIR Identifier."""
    return {"system": NHS_NUMBER_SYSTEM, "value": nhs_number}


def patient_resource(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored patient row as a FHIR R4 ``Patient``."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": row["nhs_number"],
        "meta": {"lastUpdated": to_utc_iso(row["updated_at"])},
        "identifier": [nhs_number_identifier(row["nhs_number"])],
        "name": [{"use": "usual", "text": row["name"]}],
        "birthDate": row["date_of_birth"].isoformat(),
        "address": [{"use": "home", "postalCode": row["postcode"]}],
    }
    telecom = [
        {"system": system, "value": row[column]}
        for system, column in (("email", "email"), ("phone", "phone"))
        if row.get(column)
    ]
    if telecom:
        resource["telecom"] = telecom
    language = row.get("language") or "en"
    coding = {"system": LANGUAGE_SYSTEM, "code": language, "display": LANGUAGE_NAMES.get(language, language)}
    # The language reminders are written in: the patient's preferred language of communication.
    resource["communication"] = [{"language": {"coding": [coding]}, "preferred": True}]
    return resource


def appointment_resource(row: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A stored appointment row (joined with its names, as the API reads it) as a FHIR R4 ``Appointment``."""
    participants: list[dict[str, Any]] = []
    if row["nhs_number"] is not None:
        participants.append(
            _participant(
                {
                    "reference": f"Patient/{row['nhs_number']}",
                    "type": "Patient",
                    "identifier": nhs_number_identifier(row["nhs_number"]),
                }
            )
        )
    participants += [
        _participant({"type": "Practitioner", "display": row["clinician"]}),
        _participant({"type": "HealthcareService", "display": row["department"]}),
        _participant({"reference": f"#{_PLACE_ID}", "type": "Location", "display": row["postcode"]}),
    ]
    status = effective_status(row["status"], row["ends_at"], now)
    return {
        "resourceType": "Appointment",
        "id": str(row["id"]),
        "meta": {"lastUpdated": to_utc_iso(row["updated_at"])},
        "contained": [{"resourceType": "Location", "id": _PLACE_ID, "address": {"postalCode": row["postcode"]}}],
        "status": APPOINTMENT_STATUS[status],
        "serviceType": [{"text": row["department"]}],
        "start": to_utc_iso(row["starts_at"]),
        "end": to_utc_iso(row["ends_at"]),
        "minutesDuration": row["duration_minutes"],
        "created": to_utc_iso(row["created_at"]),
        "participant": participants,
    }


def _participant(actor: dict[str, Any]) -> dict[str, Any]:
    return {"actor": actor, "required": "required", "status": "accepted"}
