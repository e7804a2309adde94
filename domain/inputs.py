"""What clients may send: pydantic models whose every field is checked by a rule in ``rules``.

The same models validate API bodies, bulk-job rows and the example data, so each rule has
one implementation. Unknown fields are refused so a typo cannot pass silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from domain import rules
from domain.errors import FieldError, InvalidInput, RuleViolation
from domain.input_fields import (
    NULL_IS_DEFAULT,
    AppointmentId,
    CalendarDate,
    Clinician,
    DateOfBirth,
    DeliveryField,
    Department,
    Email,
    HoldId,
    Instant,
    LanguageCode,
    Minutes,
    Name,
    NhsNumber,
    Phone,
    Postcode,
    Preference,
    Reason,
    SlotLength,
    StatusField,
    WallTime,
    Weekdays,
    checked_against,
)
from domain.rules import schedules
from domain.rules.preferences import (
    DEFAULT_LANGUAGE,
    check_reminder_contact,
)
from domain.rules.status import Status


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=_Input)


class NotifyReceipt(_Input):
    """GOV.UK Notify's delivery receipt (callback body); fields Notify adds later are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    reference: str | None = None
    to: str | None = None
    status: DeliveryField
    created_at: Instant | None = None
    completed_at: Instant | None = None
    sent_at: Instant | None = None
    notification_type: str | None = None


class PatientCreate(_Input):
    """A new patient."""

    nhs_number: NhsNumber
    name: Name
    date_of_birth: DateOfBirth
    postcode: Postcode
    email: Email | None = None
    phone: Phone | None = None
    reminder_preference: Preference | None = None
    language: Annotated[LanguageCode, NULL_IS_DEFAULT] = DEFAULT_LANGUAGE


class PatientUpdate(_Input):
    """A partial update; ``nhs_number`` is accepted only to refuse it clearly."""

    # Left out, these stay as they are; sent as ``null`` they are refused (400 ``field.required``).
    REFUSES_NULL: ClassVar[tuple[str, ...]] = ("name", "date_of_birth", "postcode", "language")
    # Identity: may be sent again unchanged, never changed.
    IDENTITY: ClassVar[dict[str, tuple[Callable[[Any], Any], str]]] = {
        "nhs_number": (rules.normalise_nhs_number, "nhs_number.immutable"),
    }

    nhs_number: Any = None
    name: Name | None = None
    date_of_birth: DateOfBirth | None = None
    postcode: Postcode | None = None
    email: Email | None = None
    phone: Phone | None = None
    # ``null`` goes back to the default rule (e-mail, else SMS to a UK mobile).
    reminder_preference: Preference | None = None
    language: LanguageCode | None = None


class AppointmentCreate(_Input):
    """A new (or historical) appointment; ``patient`` is an NHS number."""

    id: AppointmentId | None = None
    patient: NhsNumber
    status: Annotated[StatusField, NULL_IS_DEFAULT] = Status.ACTIVE
    time: Instant
    duration: Minutes
    clinician: Clinician
    department: Department
    postcode: Postcode
    hold: HoldId | None = None  # a hold from POST /slots/holds, consumed by this booking


class AppointmentUpdate(_Input):
    """A partial update: reschedule (time, duration, clinician, postcode) or change status."""

    # Left out, these stay as they are; sent as ``null`` they are refused (400 ``field.required``).
    REFUSES_NULL: ClassVar[tuple[str, ...]] = ("time", "duration", "clinician", "department", "postcode", "status")
    IDENTITY: ClassVar[dict[str, tuple[Callable[[Any], Any], str]]] = {
        "id": (lambda sent: str(sent).lower(), "id.immutable"),
        "patient": (rules.normalise_nhs_number, "patient.immutable"),
    }

    id: Any = None
    patient: Any = None
    status: StatusField | None = None
    time: Instant | None = None
    duration: Minutes | None = None
    clinician: Clinician | None = None
    department: Department | None = None
    postcode: Postcode | None = None


class ScheduleCreate(_Input):
    """A clinician's recurring session at a site (London wall-clock times)."""

    clinician: Clinician
    department: Department
    postcode: Postcode
    weekdays: Weekdays
    start: WallTime
    end: Annotated[WallTime, checked_against("start", schedules.session_times_problem)]
    slot: Annotated[SlotLength, NULL_IS_DEFAULT] = schedules.DEFAULT_SLOT_MINUTES
    valid_from: CalendarDate | None = None  # default: today in London (then checked by the service)
    valid_to: Annotated[CalendarDate | None, checked_against("valid_from", schedules.validity_problem)] = None


class ScheduleUpdate(_Input):
    """A partial update of a schedule; ``valid_to`` may be set to ``null`` (open-ended)."""

    REFUSES_NULL: ClassVar[tuple[str, ...]] = (
        "clinician", "department", "postcode", "weekdays", "start", "end", "slot", "valid_from",
    )  # fmt: skip
    IDENTITY: ClassVar[dict[str, tuple[Callable[[Any], Any], str]]] = {}

    clinician: Clinician | None = None
    department: Department | None = None
    postcode: Postcode | None = None
    weekdays: Weekdays | None = None
    start: WallTime | None = None
    end: WallTime | None = None
    slot: SlotLength | None = None
    valid_from: CalendarDate | None = None
    valid_to: CalendarDate | None = None


class UnavailabilityCreate(_Input):
    """Time a clinician cannot see patients, ``[from, to)``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    clinician: Clinician
    starts_at: Instant = Field(alias="from")
    ends_at: Annotated[Instant, checked_against("starts_at", schedules.unavailability_problem)] = Field(alias="to")
    reason: Reason = None


class HoldCreate(_Input):
    """Hold ``[time, time + duration)`` of a clinician for a few minutes."""

    clinician: Clinician
    time: Instant
    duration: Minutes


_GENERIC_CODES = {
    "missing": "field.required",
    "extra_forbidden": "field.unknown",
    "json_invalid": "body.malformed_json",
    "json_type": "body.malformed_json",
    "model_type": "body.not_object",
    "model_attributes_type": "body.not_object",
}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Translate pydantic's errors into PANDA's codes; never carry the rejected value."""
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        kind = error["type"]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if kind in _GENERIC_CODES:
            code = _GENERIC_CODES[kind]
        elif "." in kind:
            code = kind
        else:
            code = "field.type"
        errors.append(FieldError(field=field, code=code, params=dict(error.get("ctx") or {})))
    return errors


def stored_patient_values(values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Input values as the ``patient`` table stores them: choices as plain text, defaults filled in."""
    stored = dict(values) if partial else {"email": None, "phone": None, "reminder_preference": None, **values}
    for choice in ("reminder_preference", "language"):
        if stored.get(choice) is not None:
            stored[choice] = str(stored[choice].value if hasattr(stored[choice], "value") else stored[choice])
    if not partial:
        stored.setdefault("language", "en")
        stored.update(email_unusable=False, phone_unusable=False)
    return stored


def check_patient_contact(patient: Mapping[str, Any]) -> None:
    """A patient's reminder preference must be reachable: 400 naming the contact detail it needs.

    Every door applies it to the patient as it will be stored (a create, or an update merged
    with the stored row), so a preference can never point at a missing or non-mobile number.
    """
    try:
        check_reminder_contact(patient.get("reminder_preference"), patient.get("email"), patient.get("phone"))
    except RuleViolation as exc:
        raise InvalidInput([FieldError(exc.code.split(".")[0], exc.code)]) from None


def parse_input(model: type[M], data: bytes | str | dict[str, Any]) -> M:
    """Validate JSON bytes or a decoded mapping; raise :class:`InvalidInput` listing every bad field."""
    try:
        if isinstance(data, bytes | str):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None


def set_fields(data: _Input) -> dict[str, Any]:
    """The fields a partial update actually sent (``null`` counts as sent)."""
    return {name: getattr(data, name) for name in data.model_fields_set}


def requested_changes(
    data: PatientUpdate | AppointmentUpdate | ScheduleUpdate, current: Mapping[str, Any]
) -> dict[str, Any]:
    """The changes a partial update asks for, after the rules every update shares (400 naming each).

    Identity fields (``IDENTITY``) may be sent again as they are — then they are dropped — but
    never changed; fields in ``REFUSES_NULL`` may be left out but not sent as ``null``.
    ``current`` holds the stored identity, normalised as the rule normalises what was sent.
    """
    changes = set_fields(data)
    errors = []
    for field, (normalise, code) in data.IDENTITY.items():
        if field not in changes:
            continue
        try:
            same = normalise(changes.pop(field)) == current[field]
        except ValueError:
            same = False
        if not same:
            errors.append(FieldError(field, code))
    errors += [
        FieldError(name, "field.required") for name in data.REFUSES_NULL if name in changes and changes[name] is None
    ]
    if errors:
        raise InvalidInput(errors)
    return changes
