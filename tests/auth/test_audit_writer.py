"""The API's audit event writer on PostgreSQL: events that arrive together share one commit, and
each request learns whether its own event was stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

from api.audit_writer import EventNotStored, EventWriter
from domain.audit.events import Action, ResourceType, event_row
from domain.auth.actor import Actor, Role
from domain.sql import AsyncpgRunner, SqlRunner
from tests.conftest import _plain_dsn

READER = Actor("clinician", frozenset({Role.CLINICIAN}))


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: SQLite's events go into the request's own session."""
    return "postgresql"


class Opener:
    """``open_sql`` over one asyncpg connection, counting the connections asked for (one per batch)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.opened = 0
        self.unreachable = False

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlRunner]:
        self.opened += 1
        if self.unreachable:
            raise OSError("connection refused")
        yield AsyncpgRunner(self.connection)


@pytest.fixture
async def opener(settings, engine) -> AsyncIterator[Opener]:
    connection = await asyncpg.connect(_plain_dsn(settings.database_url))
    yield Opener(connection)
    await connection.close()


def read_event(request_id: str, **overrides: Any) -> dict[str, Any]:
    row = event_row(READER, Action.READ, 200, resource_type=ResourceType.PATIENT, request_id=request_id)
    return {**row, **overrides}


async def stored_request_ids(opener: Opener) -> list[str]:
    rows = await opener.connection.fetch("SELECT request_id FROM audit_event ORDER BY request_id")
    return [row["request_id"] for row in rows]


async def test_events_arriving_together_are_stored_in_one_commit(opener: Opener) -> None:
    writer = EventWriter(opener)
    ids = [f"r{i:03d}" for i in range(50)]
    await asyncio.gather(*(writer.write(read_event(i)) for i in ids))
    assert await stored_request_ids(opener) == ids
    assert opener.opened == 1


async def test_an_event_alone_is_stored_at_once_and_the_next_starts_a_new_batch(opener: Opener) -> None:
    writer = EventWriter(opener)
    await asyncio.wait_for(writer.write(read_event("first")), 1)
    await asyncio.wait_for(writer.write(read_event("second")), 1)
    assert await stored_request_ids(opener) == ["first", "second"]
    assert opener.opened == 2


async def test_a_batch_is_capped_and_the_rest_follow_in_the_next(opener: Opener) -> None:
    writer = EventWriter(opener, max_batch=4)
    ids = [f"r{i}" for i in range(10)]
    await asyncio.gather(*(writer.write(read_event(i)) for i in ids))
    assert await stored_request_ids(opener) == ids
    assert opener.opened == 3


async def test_an_event_the_table_refuses_fails_its_own_request_only(opener: Opener) -> None:
    writer = EventWriter(opener)
    too_long = read_event("x" * 40)  # request_id holds 32 characters
    outcomes = await asyncio.gather(
        writer.write(read_event("a")), writer.write(too_long), writer.write(read_event("b")), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [type(None), EventNotStored, type(None)]
    assert await stored_request_ids(opener) == ["a", "b"]


async def test_when_the_database_is_unreachable_each_waiting_request_is_told_and_the_writer_recovers(
    opener: Opener,
) -> None:
    writer = EventWriter(opener)
    opener.unreachable = True
    outcomes = await asyncio.gather(*(writer.write(read_event(f"r{i}")) for i in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, EventNotStored) for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == 3  # each its own exception, no shared traceback
    opener.unreachable = False
    await asyncio.wait_for(writer.write(read_event("later")), 1)
    assert await stored_request_ids(opener) == ["later"]


async def test_a_request_that_stops_waiting_still_has_its_event_stored(opener: Opener) -> None:
    writer = EventWriter(opener)
    gone = asyncio.create_task(writer.write(read_event("gone")))
    stays = asyncio.create_task(writer.write(read_event("stays")))
    await asyncio.sleep(0)  # both are waiting for the batch
    gone.cancel()
    await stays
    assert gone.cancelled()
    assert await stored_request_ids(opener) == ["gone", "stays"]
