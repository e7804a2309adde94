"""Every data rule of PANDA, as plain functions without a database.

Each rule takes raw input and returns the normalised value or raises
:class:`domain.errors.RuleViolation` with a stable code.
"""

from domain.rules.contact import normalise_email, normalise_phone
from domain.rules.dates import check_date_of_birth
from domain.rules.durations import format_duration, parse_duration
from domain.rules.names import check_search_text, entity_key, normalise_entity_name, normalise_name, search_key
from domain.rules.nhs_number import normalise_nhs_number
from domain.rules.overlap import intervals_overlap
from domain.rules.postcode import coerce_postcode
from domain.rules.reminders import plan_reminders
from domain.rules.status import (
    FINAL_STATUSES,
    Status,
    check_create_status,
    check_reschedulable,
    check_status_change,
    effective_status,
    stored_status_on_create,
)
from domain.rules.times import parse_aware_datetime, to_utc_iso

__all__ = [
    "FINAL_STATUSES",
    "Status",
    "check_create_status",
    "check_date_of_birth",
    "check_reschedulable",
    "check_search_text",
    "check_status_change",
    "coerce_postcode",
    "effective_status",
    "entity_key",
    "format_duration",
    "intervals_overlap",
    "normalise_email",
    "normalise_entity_name",
    "normalise_name",
    "normalise_nhs_number",
    "normalise_phone",
    "parse_aware_datetime",
    "parse_duration",
    "plan_reminders",
    "search_key",
    "stored_status_on_create",
    "to_utc_iso",
]
