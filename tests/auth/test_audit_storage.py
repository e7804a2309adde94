"""The audit table on PostgreSQL: no change without its event, and no event ever changed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from domain.audit.events import Action, AuditTrail, ResourceType
from domain.audit.sealing import unseal
from domain.auth.actor import Actor, Role
from domain.inputs import PatientCreate, PatientUpdate
from domain.services.patients import PatientService
from domain.sql import AsyncpgRunner
from tests.conftest import _plain_dsn
from tests.factories import nhs_number, patient_body

P = nhs_number(0)


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: the trigger and the killed connection are PostgreSQL's."""
    return "postgresql"


@pytest.fixture
async def connection(settings, engine) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(_plain_dsn(settings.database_url))
    yield connection
    await connection.close()


def trail(request_id: str, action: Action = Action.UPDATE) -> AuditTrail:
    actor = Actor("booking", frozenset({Role.BOOKING}))
    return AuditTrail(actor, request_id, action, ResourceType.PATIENT, success_outcome=200)


async def test_update_and_delete_on_audit_event_are_refused(connection) -> None:
    service = PatientService(sql=AsyncpgRunner(connection), audit=trail("r-create", Action.CREATE))
    await service.register(PatientCreate.model_validate(patient_body(P)))
    assert await connection.fetchval("SELECT count(*) FROM audit_event") == 1
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await connection.execute("UPDATE audit_event SET actor = 'someone else'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await connection.execute("DELETE FROM audit_event")
    assert await connection.fetchval("SELECT actor FROM audit_event") == "booking"


@pytest.mark.parametrize("killed", [False, True])
async def test_a_change_and_its_event_commit_or_vanish_together(settings, connection, killed: bool) -> None:
    await PatientService(sql=AsyncpgRunner(connection)).register(PatientCreate.model_validate(patient_body(P)))
    worker = await asyncpg.connect(_plain_dsn(settings.database_url))
    try:
        transaction = worker.transaction()
        await transaction.start()
        service = PatientService(sql=AsyncpgRunner(worker), audit=trail("r-amend"))
        await service.amend(P, PatientUpdate.model_validate({"postcode": "CF10 1AA"}))
        if killed:  # the connection dies before COMMIT: neither the change nor its event may remain
            await connection.execute("SELECT pg_terminate_backend($1)", worker.get_server_pid())
            lost = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
            with pytest.raises(lost):  # however the driver learns that its connection is gone
                await transaction.commit()
        else:
            await transaction.commit()
    finally:
        if not worker.is_closed():
            await worker.close()
    postcode = await connection.fetchval("SELECT postcode FROM patient WHERE nhs_number = $1", P)
    events = await connection.fetch("SELECT changes FROM audit_event WHERE request_id = 'r-amend'")
    if killed:
        assert (postcode, len(events)) == ("N6 2FA", 0)
    else:
        assert (postcode, len(events)) == ("CF10 1AA", 1)
        # The change's values are stored sealed under the patient's key, committed with it.
        key = await connection.fetchval("SELECT key FROM patient_audit_key WHERE patient = $1", P)
        changes = unseal(json.loads(events[0]["changes"]), P, key)
        assert changes == {"postcode": {"from": "N6 2FA", "to": "CF10 1AA"}}
