"""Every user-facing message, keyed by its stable code, localised from gettext catalogues.

English is the source language; ``locales/<lang>/LC_MESSAGES/messages.po`` hold the rest and
are read as they are (no compile step). Add a language by adding a catalogue.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.core import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE = "en"


def _(text: str) -> str:
    """Mark a message for extraction (``pybabel extract -k _``); translated at render time."""
    return text


MESSAGES: dict[str, str] = {
    "nhs_number.type": _("The NHS number must be a string of digits."),
    "nhs_number.format": _("An NHS number has 10 digits (spaces and dashes are allowed)."),
    "nhs_number.checksum": _("This is not a valid NHS number: its check digit is wrong."),
    "nhs_number.immutable": _("The NHS number identifies the patient and cannot be changed."),
    "name.type": _("The name must be text."),
    "name.empty": _("The name must not be empty."),
    "name.too_long": _("The name must be at most {max} characters long."),
    "name.control_character": _("The name must not contain control characters or line breaks."),
    "clinician.type": _("The clinician's name must be text."),
    "clinician.empty": _("The clinician's name must not be empty."),
    "clinician.too_long": _("The clinician's name must be at most {max} characters long."),
    "clinician.control_character": _("The clinician's name must not contain control characters."),
    "department.type": _("The department's name must be text."),
    "department.empty": _("The department's name must not be empty."),
    "department.too_long": _("The department's name must be at most {max} characters long."),
    "department.control_character": _("The department's name must not contain control characters."),
    "actor.control_character": _("The actor must not contain control characters."),
    "resource_id.control_character": _("The resource id must not contain control characters."),
    "date_of_birth.format": _("The date of birth must be an ISO 8601 date (YYYY-MM-DD)."),
    "date_of_birth.future": _("The date of birth cannot be in the future."),
    "date_of_birth.too_early": _("The date of birth cannot be before {earliest}."),
    "postcode.type": _("The postcode must be text."),
    "postcode.format": _("This is not a UK postcode (for example SW1A 1AA)."),
    "email.format": _("This is not a valid e-mail address."),
    "phone.format": _("This is not a valid UK or international (E.164) phone number."),
    "time.format": _("The time must be an ISO 8601 timestamp, for example 2025-06-04T16:30:00+01:00."),
    "time.offset_required": _("The time must include a UTC offset, for example +00:00 or Z."),
    "time.range": _("The time must fall between the years {earliest} and {latest}."),
    "from.range": _("The start of the range must fall between the years {earliest} and {latest}."),
    "to.range": _("The end of the range must fall between the years {earliest} and {latest}."),
    "from.format": _("The start of the range must be an ISO 8601 timestamp."),
    "from.offset_required": _("The start of the range must include a UTC offset."),
    "to.format": _("The end of the range must be an ISO 8601 timestamp."),
    "to.offset_required": _("The end of the range must include a UTC offset."),
    "from.date_or_time": _("The start of the range must be a date (YYYY-MM-DD) or a timestamp with a UTC offset."),
    "to.date_or_time": _("The end of the range must be a date (YYYY-MM-DD) or a timestamp with a UTC offset."),
    "range.order": _("The end of the range must not be before its start."),
    "group_by.invalid": _("The report can be grouped by one of: {allowed}."),
    "period.invalid": _("The period must be one of: {allowed}."),
    "duration.format": _("The duration must look like 15m, 1h, 1h30m, 90m or PT1H30M."),
    "duration.range": _("The duration must be between {min} and {max}."),
    "status.invalid": _("The status must be one of: {allowed}."),
    "id.format": _("The id must be a UUID."),
    "id.immutable": _("An appointment's id cannot be changed."),
    "patient.unknown": _("No patient has this NHS number."),
    "patient.immutable": _("An appointment cannot be moved to another patient."),
    "field.required": _("This field is required."),
    "field.unknown": _("This field is not recognised."),
    "field.type": _("This field has the wrong type."),
    "field.invalid": _("This value is not allowed."),
    "query.limit": _("The limit must be a whole number from 1 to {max}."),
    "query.offset": _("The offset must be a whole number from 0 to {max}."),
    "query.invalid": _("This query parameter is not valid."),
    "body.malformed_json": _("The request body is not valid JSON."),
    "request.malformed": _("The request is not valid HTTP."),
    "body.not_object": _("The request body must be a JSON object."),
    "body.too_large": _("The request body is too large."),
    "content_type.unsupported": _("This content type is not supported here."),
    "input.invalid": _("The request is not valid."),
    "input.invalid_many": _("{count} fields are not valid."),
    "patient.not_found": _("No such patient."),
    "appointment.not_found": _("No such appointment."),
    "job.not_found": _("No such job."),
    "kind.invalid": _("The kind must be one of: {allowed}."),
    "mode.invalid": _("The mode must be one of: {allowed}."),
    "upload.malformed": _("The multipart upload cannot be read."),
    "upload.file_missing": _("A multipart upload must carry the rows in a field named file."),
    "job.not_cancellable": _("This job has already ended ({status}); it cannot be cancelled."),
    "job.internal_error": _("The job stopped on an unexpected error, which has been logged."),
    "file.empty": _("The file is empty."),
    "file.encoding": _("The file is not UTF-8 text."),
    "file.csv_malformed": _("The file is not valid CSV: a quoted field is never closed, or its rows cannot be read."),
    "file.csv_header": _("A CSV file must start with a header row naming each column once."),
    "file.json_malformed": _("The file is not a valid JSON array of rows."),
    "file.missing": _("The uploaded file is no longer available."),
    "row.extra_cells": _("This row has more cells than the header's {max} columns."),
    "row.malformed_json": _("This line is not valid JSON."),
    "row.not_object": _("This row must be a JSON object."),
    "row.too_long": _("This row is longer than {max} bytes, so it was not read."),
    "route.not_found": _("Nothing is found at this address."),
    "method.not_allowed": _("This method is not allowed here."),
    "patient.duplicate": _("A patient with this NHS number already exists."),
    "appointment.duplicate_id": _("An appointment with this id already exists."),
    "appointment.clinician_overlap": _("The clinician already has an active appointment at that time."),
    "appointment.patient_overlap": _("The patient already has an active appointment at that time."),
    "appointment.not_active": _("Only an active appointment that has not ended can be changed."),
    "status.final": _("This appointment is {status}; it cannot be changed any more."),
    "status.not_started": _("An appointment cannot be attended before it starts."),
    "status.already_ended": _("An appointment that has ended cannot be cancelled."),
    "status.not_ended": _("An appointment can only be marked missed after its end."),
    "status.transition": _("An appointment cannot go from {current} to {target}."),
    "status.attended_in_future": _("An attended appointment cannot start in the future."),
    "service.unavailable": _("The service is temporarily unavailable; please try again."),
    "server.error": _("Something went wrong on our side. The error has been logged."),
    "upload.too_many": _("Too many files are being uploaded at once; try again shortly."),
    "upload.insufficient_storage": _("There is not enough free disk space to store this file."),
    "job.redelivered_too_often": _("The job stopped: the workers running it stopped again and again."),
    "range.too_long": _("The report would hold more than {max} items: choose a shorter range or a longer period."),
    "auth.required": _("This request needs a credential: send Authorization: Bearer followed by an API key or token."),
    "auth.invalid": _("The credential sent is not valid: it is unknown, revoked, expired or badly signed."),
    "auth.forbidden": _("Your roles do not allow this request."),
    "action.invalid": _("The action must be one of: {allowed}."),
    "resource_type.invalid": _("The resource type must be one of: {allowed}."),
    "role.unknown": _("Each role must be one of: {allowed}."),
    "role.required": _("A key needs at least one role."),
    "key.name": _("A key's name must be 1 to {max} printable characters."),
    "key.duplicate": _("A live key already has this name: revoke it first, or choose another name."),
    "key.not_found": _("No live key has this name or id."),
    "audit_event.not_found": _("No such audit event."),
    "weekdays.invalid": _("The weekdays must be a non-empty list of: {allowed}."),
    "wall_time.format": _("The time of day must be HH:MM (24-hour clock), for example 09:30."),
    "slot.range": _("The slot length must be between {min} and {max}."),
    "date.format": _("The date must be an ISO 8601 date (YYYY-MM-DD)."),
    "date.range": _("The date must fall between the years {earliest} and {latest}."),
    "schedule.end_before_start": _("A session must end after it starts."),
    "schedule.validity_order": _("The last valid date must not be before the first."),
    "schedule.overlap": _(
        "The clinician already has a session on one of these weekdays at an overlapping time and period."
    ),
    "schedule.not_found": _("No such schedule."),
    "unavailability.not_found": _("No such unavailability."),
    "hold.not_found": _("No such hold."),
    "reason.type": _("The reason must be text."),
    "reason.too_long": _("The reason must be at most {max} characters long."),
    "reason.control_character": _("The reason must not contain control characters or line breaks."),
    "slots.filter_required": _("Give a department or a clinician (or both)."),
    "range.too_long:days": _("The range may span at most {max} days."),
    "appointment.outside_schedule": _("The clinician has no session covering the whole of this time."),
    "appointment.clinician_unavailable": _("The clinician is unavailable at this time."),
    "slot.held": _("This time is held for another booking; choose another slot."),
    "slot.taken": _("This time is already booked or held; choose another slot."),
    "slot.past": _("This time has already passed."),
    "hold.mismatch": _("The hold is for another clinician or time than this booking."),
    "hold.expired": _("The hold has expired or was released; search for free slots again."),
    "start.bounds": _(
        "Give start twice, as in start=ge2027-03-29&start=lt2027-04-05 (ge: from that day, lt: before that day)."
    ),
    "reminder.subject": _("Appointment reminder"),
    "reminder.body": _(
        "Dear {name}, this is a reminder of your appointment on {when} with {clinician} ({department}) at "
        "{postcode}. If you cannot attend, please contact us to cancel or rearrange it."
    ),
    "reminder_preference.invalid": _("Reminders can be sent by one of: {allowed}."),
    "language.invalid": _("The language must be one of: {allowed}."),
    "email.required_for_reminders": _("Reminders by e-mail need an e-mail address."),
    "phone.not_uk_mobile": _("Reminders by SMS need a UK mobile phone number."),
    "callback.unauthorised": _("The callback's bearer token is missing or wrong."),
    "reminder.not_found": _("No reminder has this reference."),
    "delivery.invalid": _("The delivery status must be one of: {allowed}."),
    "reminder.sms": _(
        "Appointment reminder: {when}, {department}, {postcode}. If you cannot attend, please contact us."
    ),
}

TITLES: dict[int, str] = {
    400: _("Invalid input"),
    401: _("Unauthorised"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    409: _("Conflict"),
    413: _("Content too large"),
    415: _("Unsupported media type"),
    429: _("Too many requests"),
    500: _("Internal server error"),
    503: _("Service unavailable"),
    507: _("Insufficient storage"),
}


@cache
def available_languages() -> tuple[str, ...]:
    """English plus every language with a catalogue."""
    found = sorted(p.name for p in LOCALES_DIR.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists())
    return (DEFAULT_LANGUAGE, *found)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language``, compiled in memory from its ``.po`` file."""
    po_path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=Locale.parse(language))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate_language(accept_language: str | None) -> str:
    """Pick the best supported language for an ``Accept-Language`` header (RFC 9110 q-values)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            # Language tags are case-insensitive (RFC 5646); catalogues are named in lower case.
            weighted.append((-quality, position, tag.strip().replace("_", "-").lower()))
    preferred = [tag for _q, _p, tag in sorted(weighted)]
    if "*" in preferred:
        preferred = preferred[: preferred.index("*")]
    chosen = negotiate_locale(preferred, list(available_languages()), sep="-")
    if chosen is None:
        chosen = negotiate_locale([t.split("-")[0] for t in preferred], list(available_languages()), sep="-")
    return chosen or DEFAULT_LANGUAGE


def message(code: str, language: str, **params: Any) -> str:
    """The localised message for ``code``; unknown codes fall back to a generic message."""
    # A code may have wordings for several uses: ``variant`` picks one (``range.too_long:days``).
    variant = params.pop("variant", None)
    template = MESSAGES.get(f"{code}:{variant}") or MESSAGES.get(code) or MESSAGES["field.invalid"]
    text = translations(language).gettext(template)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def title(status: int, language: str) -> str:
    """The localised title of an HTTP status."""
    return translations(language).gettext(TITLES.get(status, TITLES[500]))


def problem_document(status: int, code: str, language: str) -> dict[str, Any]:
    """An RFC 9457 problem document with no field errors, for answers made outside Litestar's
    exception handling (the audit layer's 503, the HTTP server's 400)."""
    return {
        "type": f"urn:panda:problem:{code}",
        "title": title(status, language),
        "status": status,
        "detail": message(code, language),
        "code": code,
    }
