"""An audit event as a FHIR R4 ``AuditEvent`` (the RESTful-operation profile of IHE Basic Audit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.fhir import nhs_number_identifier
from domain.rules.times import to_utc_iso

# FHIR's action codes (C, R, U, D, E) and RESTful interactions for PANDA's actions.
_ACTION = {"create": "C", "read": "R", "search": "E", "update": "U", "delete": "D", "erase": "D", "import": "C"}
_INTERACTION = {
    "create": "create",
    "read": "read",
    "search": "search-type",
    "update": "update",
    "delete": "delete",
    "erase": "delete",
    "import": "create",
}
REST = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
INTERACTIONS = "http://hl7.org/fhir/restful-interaction"


def outcome_code(status: int) -> str:
    """``0`` success, ``4`` minor failure (the client's: 4xx), ``8`` serious failure (the server's: 5xx)."""
    if status < 400:
        return "0"
    return "4" if status < 500 else "8"


def audit_event_resource(row: Mapping[str, Any]) -> dict[str, Any]:
    """The stored event as a FHIR ``AuditEvent``; a refused request is an ``E`` with a failure outcome."""
    action = str(row["action"])
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(row["id"]),
        "type": REST,
        "action": _ACTION.get(action, "E"),
        "recorded": to_utc_iso(row["at"]),
        "outcome": outcome_code(int(row["outcome"])),
        "outcomeDesc": f"HTTP {int(row['outcome'])}",
        "agent": [
            {
                "who": {"identifier": {"value": row["actor"]}},
                "requestor": True,
                "role": [{"text": role} for role in str(row["roles"]).split(",") if role],
            }
        ],
        "source": {"observer": {"display": "PANDA"}},
    }
    if action in _INTERACTION:
        resource["subtype"] = [{"system": INTERACTIONS, "code": _INTERACTION[action]}]
    entities = []
    if row["patient"]:
        entities.append({"what": {"identifier": nhs_number_identifier(row["patient"])}, "type": _patient_type()})
    if row["resource_type"] and row["resource_id"] and row["resource_type"] != "Patient":
        entities.append({"what": {"reference": f"{row['resource_type']}/{row['resource_id']}"}})
    if row["request_id"]:
        entities.append({"what": {"identifier": {"system": "urn:panda:request-id", "value": row["request_id"]}}})
    if entities:
        resource["entity"] = entities
    return resource


def _patient_type() -> dict[str, str]:
    return {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"}
