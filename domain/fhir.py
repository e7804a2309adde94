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

from domain.rules import Status, effective_status, format_duration, to_utc_iso
from domain.rules.schedules import format_wall_time, london_instant, weekday_names

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


def schedule_resource(row: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """A stored schedule row (joined with its names) as a FHIR R4 ``Schedule``.

    The recurring pattern has no structured home in R4's ``Schedule``: it is in ``comment``
    (London wall-clock times); ``planningHorizon`` is the validity (London dates), and the free
    times themselves are ``Slot`` resources (``GET /fhir/Slot?schedule=…``).
    """
    horizon = {"start": to_utc_iso(london_instant(row["valid_from"], 0))}
    if row["valid_to"] is not None:
        horizon["end"] = to_utc_iso(london_instant(row["valid_to"] + dt.timedelta(days=1), 0))
    pattern = (
        f"{', '.join(weekday_names(row['weekdays']))} {format_wall_time(row['start_minute'])}-"
        f"{format_wall_time(row['end_minute'])} Europe/London, {format_duration(row['slot_minutes'])} slots"
    )
    return {
        "resourceType": "Schedule",
        "id": str(row["id"]),
        "meta": {"lastUpdated": to_utc_iso(row["updated_at"])},
        "contained": [{"resourceType": "Location", "id": _PLACE_ID, "address": {"postalCode": row["postcode"]}}],
        "active": row["valid_to"] is None or row["valid_to"] >= today,
        "serviceType": [{"text": row["department"]}],
        "actor": [
            {"type": "Practitioner", "display": row["clinician"]},
            {"reference": f"#{_PLACE_ID}", "type": "Location", "display": row["postcode"]},
        ],
        "planningHorizon": horizon,
        "comment": pattern,
    }


def slot_bundle(schedule_id: str, slots: list[tuple[dt.datetime, dt.datetime]]) -> dict[str, Any]:
    """Free slots of one schedule as a FHIR R4 ``searchset`` ``Bundle`` of ``Slot`` resources."""
    entries = []
    for start, end in slots:
        slot_id = f"{schedule_id}-{start.astimezone(dt.UTC):%Y%m%dT%H%MZ}"
        resource = {
            "resourceType": "Slot",
            "id": slot_id,
            "schedule": {"reference": f"Schedule/{schedule_id}"},
            "status": "free",
            "start": to_utc_iso(start),
            "end": to_utc_iso(end),
        }
        entries.append({"fullUrl": f"urn:panda:slot:{slot_id}", "resource": resource, "search": {"mode": "match"}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
