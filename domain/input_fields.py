"""The checked field types of PANDA's inputs: each one a type, a rule from ``domain.rules`` that
parses and checks it, and how the OpenAPI schema shows it. ``domain.inputs`` builds its models of
these, so an API body, a bulk-job row and the example data are held to the same rule.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError, PydanticUseDefault

from domain import rules
from domain.errors import RuleViolation
from domain.rules import schedules
from domain.rules.delivery import DeliveryStatus, parse_delivery_status
from domain.rules.ids import check_uuid
from domain.rules.preferences import Language, ReminderPreference, parse_language, parse_reminder_preference
from domain.rules.status import Status, parse_status


def _checked(rule: Callable[[Any], Any]) -> BeforeValidator:
    def validate(value: Any) -> Any:
        try:
            return rule(value)
        except RuleViolation as exc:
            raise PydanticCustomError(exc.code, exc.code, exc.params) from None

    return BeforeValidator(validate)


def checked_against(earlier: str, problem: Callable[[Any, Any], str | None]) -> AfterValidator:
    """This field checked against an ``earlier`` one that is valid: a rule spanning fields then
    reports beside the other fields' errors (SPEC §5: every bad field at once)."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        other = info.data.get(earlier)
        if value is not None and other is not None and (code := problem(other, value)):
            raise PydanticCustomError(code, code)
        return value

    return AfterValidator(validate)


def _default_when_null(value: Any) -> Any:
    if value is None:
        raise PydanticUseDefault
    return value


# On a create, ``null`` for an optional field means "not given", whatever its default: ``language``
# takes ``en`` as ``email`` takes nothing. Marks the field too: ``api.openapi`` shows it as nullable.
NULL_IS_DEFAULT = BeforeValidator(_default_when_null)


def _uuid(value: Any) -> uuid.UUID:
    return check_uuid(value)


def _string(schema: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", **schema})


NhsNumber = Annotated[
    str, _checked(rules.normalise_nhs_number), _string({"examples": ["943 476 5919"], "pattern": r"^[0-9 \-]+$"})
]
Name = Annotated[str, _checked(rules.normalise_name), _string({"minLength": 1, "maxLength": 255})]
DateOfBirth = Annotated[dt.date, _checked(rules.check_date_of_birth), _string({"format": "date"})]
Postcode = Annotated[str, _checked(rules.coerce_postcode), _string({"examples": ["SW1A 1AA"]})]
Email = Annotated[str, _checked(rules.normalise_email), _string({"format": "email"})]
Phone = Annotated[str, _checked(rules.normalise_phone), _string({"examples": ["+447700900123"]})]
Instant = Annotated[dt.datetime, _checked(rules.parse_aware_datetime), _string({"format": "date-time"})]
Minutes = Annotated[int, _checked(rules.parse_duration), _string({"examples": ["1h30m", "15m", "PT2H"]})]
StatusField = Annotated[Status, _checked(parse_status), _string({"enum": [s.value for s in Status]})]
Clinician = Annotated[
    str, _checked(lambda v: rules.normalise_entity_name(v, rule="clinician")), _string({"minLength": 1})
]
Department = Annotated[
    str, _checked(lambda v: rules.normalise_entity_name(v, rule="department")), _string({"minLength": 1})
]
Preference = Annotated[
    ReminderPreference,
    _checked(parse_reminder_preference),
    _string({"enum": [p.value for p in ReminderPreference]}),
]
LanguageCode = Annotated[Language, _checked(parse_language), _string({"enum": [lang.value for lang in Language]})]
AppointmentId = Annotated[uuid.UUID, _checked(_uuid), _string({"format": "uuid"})]
HoldId = Annotated[uuid.UUID, _checked(_uuid), _string({"format": "uuid"})]
Weekdays = Annotated[
    int,
    _checked(schedules.parse_weekdays),
    WithJsonSchema({"type": "array", "minItems": 1, "items": {"enum": list(schedules.WEEKDAYS)}}),
]
WallTime = Annotated[int, _checked(schedules.parse_wall_time), _string({"pattern": r"^\d{2}:\d{2}$"})]
SlotLength = Annotated[int, _checked(schedules.parse_slot_length), _string({"examples": ["15m", "30m", "1h"]})]
CalendarDate = Annotated[dt.date, _checked(schedules.parse_date), _string({"format": "date"})]
Reason = Annotated[str | None, _checked(schedules.parse_reason), _string({"maxLength": 255})]

DeliveryField = Annotated[
    DeliveryStatus, _checked(parse_delivery_status), _string({"enum": [d.value for d in DeliveryStatus]})
]
