"""Turning list query parameters into domain filters, with the domain's own rules."""

from __future__ import annotations

from typing import Any

from domain.errors import FieldError, InvalidInput, RuleViolation
from domain.rules import normalise_nhs_number, parse_aware_datetime
from domain.rules.status import parse_status
from domain.services.appointment_queries import AppointmentFilter


def appointment_filter(
    patient: str | None,
    clinician: str | None,
    department: str | None,
    status: str | None,
    start_from: str | None,
    start_to: str | None,
) -> AppointmentFilter:
    """Validate every filter at once; a bad one is a 400 naming it."""
    errors: list[FieldError] = []

    def checked(field: str, raw: str | None, rule: Any) -> Any:
        if raw is None:
            return None
        try:
            return rule(raw)
        except RuleViolation as exc:
            errors.append(FieldError(field, exc.code, exc.params))
            return None

    result = AppointmentFilter(
        patient=checked("patient", patient, normalise_nhs_number),
        clinician=clinician,
        department=department,
        status=checked("status", status, parse_status),
        start_from=checked("from", start_from, lambda v: parse_aware_datetime(v, rule="from")),
        start_to=checked("to", start_to, lambda v: parse_aware_datetime(v, rule="to")),
    )
    if errors:
        raise InvalidInput(errors)
    return result
