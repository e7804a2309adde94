"""SPEC §9's route table: every route declares who may call it, and the table gives the SPEC's roles."""

from __future__ import annotations

import pytest

from api.access import declared_access
from api.app import create_app
from domain.auth.access import ROLES_FOR, Access, access_for_appointment_change, may
from domain.auth.actor import ANONYMOUS, Actor, Role
from domain.config import Settings

SPEC_TABLE = {
    Access.CLINICAL_READ: {"booking", "clinician", "admin"},
    Access.DIRECTORY_READ: {"booking", "clinician", "ops", "admin"},
    Access.BOOKING_WRITE: {"booking", "admin"},
    Access.STATUS_CHANGE: {"booking", "clinician", "admin"},
    Access.ERASE: {"admin"},
    Access.SCHEDULE_WRITE: {"ops", "admin"},
    Access.OPERATIONS: {"ops", "admin"},
    Access.AUDIT: {"auditor", "admin"},
}


@pytest.mark.parametrize("access", list(SPEC_TABLE))
def test_each_group_admits_exactly_the_spec_roles(access: Access) -> None:
    admitted = {role.value for role in Role if may(Actor("x", frozenset({role})), access)}
    assert admitted == SPEC_TABLE[access] == {r.value for r in ROLES_FOR[access]}
    assert not may(Actor("nobody"), access)
    assert may(ANONYMOUS, access)


def test_open_routes_need_no_role() -> None:
    assert may(Actor("nobody"), Access.OPEN)


def test_a_status_only_change_is_a_status_change_and_anything_more_a_booking_change() -> None:
    assert access_for_appointment_change(frozenset({"status"})) is Access.STATUS_CHANGE
    assert access_for_appointment_change(frozenset()) is Access.STATUS_CHANGE
    assert access_for_appointment_change(frozenset({"status", "time"})) is Access.BOOKING_WRITE
    assert access_for_appointment_change(frozenset({"clinician"})) is Access.BOOKING_WRITE


def test_every_route_declares_its_access(tmp_path) -> None:
    app = create_app(Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/p.sqlite"))
    undeclared = [
        (sorted(handler.http_methods), route.path)
        for route in app.routes
        for handler in route.route_handlers
        if getattr(handler, "http_methods", {"OPTIONS"}) != {"OPTIONS"}
        and not route.path.startswith("/schema")
        and declared_access(handler) is None
    ]
    assert undeclared == []
