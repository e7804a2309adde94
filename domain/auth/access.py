"""Who may do what: SPEC §9's route table as data, the one place a route's roles are defined.

Every route declares one :class:`Access` (``api/access.py`` turns it into a Litestar guard); the
roles allowed for each come from :data:`ROLES_FOR`. A test walks every route of the app and
fails on one that declares none.
"""

from __future__ import annotations

from enum import StrEnum

from domain.auth.actor import Actor, Role


class Access(StrEnum):
    """The route groups of SPEC §9's table (``open``: no credential needed)."""

    OPEN = "open"
    CLINICAL_READ = "clinical_read"  # patients, appointments, their reminders, FHIR views
    DIRECTORY_READ = "directory_read"  # clinicians, departments, schedules, unavailability, slots
    BOOKING_WRITE = "booking_write"  # create/change patients; create/change/delete appointments; hold slots
    STATUS_CHANGE = "status_change"  # change an appointment's status only
    ERASE = "erase"  # DELETE /patients/{nhs_number}
    SCHEDULE_WRITE = "schedule_write"  # schedules and unavailability: create, change, delete
    OPERATIONS = "operations"  # jobs, analytics, /insight, /outbox
    AUDIT = "audit"  # /audit, appointment history


_B, _C, _O, _AU, _AD = Role.BOOKING, Role.CLINICIAN, Role.OPS, Role.AUDITOR, Role.ADMIN

ROLES_FOR: dict[Access, frozenset[Role]] = {
    Access.OPEN: frozenset(Role),
    Access.CLINICAL_READ: frozenset({_B, _C, _AD}),
    Access.DIRECTORY_READ: frozenset({_B, _C, _O, _AD}),
    Access.BOOKING_WRITE: frozenset({_B, _AD}),
    Access.STATUS_CHANGE: frozenset({_B, _C, _AD}),
    Access.ERASE: frozenset({_AD}),
    Access.SCHEDULE_WRITE: frozenset({_O, _AD}),
    Access.OPERATIONS: frozenset({_O, _AD}),
    Access.AUDIT: frozenset({_AU, _AD}),
}


def may(actor: Actor, access: Access) -> bool:
    """Whether ``actor`` holds a role that ``access`` admits."""
    return access is Access.OPEN or actor.holds_any(ROLES_FOR[access])


# An appointment PATCH naming only these fields is a status change (clinicians may make it);
# naming any other field it is a booking change.
STATUS_ONLY_FIELDS = frozenset({"status"})


def access_for_appointment_change(fields: frozenset[str]) -> Access:
    """The access a PATCH of an appointment needs, by the fields it names."""
    return Access.STATUS_CHANGE if fields <= STATUS_ONLY_FIELDS else Access.BOOKING_WRITE
