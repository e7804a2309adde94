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
from tests.factories import nhs_number

READER = Actor("clinician", frozenset({Role.CLINICIAN}))
WAIT = 5.0  # seconds an event may wait for its commit


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
        self.stalled = False  # a connection that never answers (a half-open socket)
        self.broken = False  # a connection the server dropped
        self.released_after: list[type[BaseException] | None] = []

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[SqlRunner]:
        self.opened += 1
        if self.unreachable:
            raise OSError("connection refused")
        try:
            runner: Any = _Stalled() if self.stalled else _Broken() if self.broken else AsyncpgRunner(self.connection)
            yield runner
        except BaseException as exc:
            self.released_after.append(type(exc))  # what the API's pool sees: it closes a cancelled one
            raise
        self.released_after.append(None)


class _Broken:
    """A connection the server dropped: every statement fails."""

    async def execute(self, *_args: Any, **_params: Any) -> None:
        raise asyncpg.exceptions.ConnectionFailureError("the server closed the connection")


class _Stalled:
    """A connection whose statements never get an answer."""

    async def execute(self, *_args: Any, **_params: Any) -> None:
        await asyncio.Event().wait()


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


async def commits(opener: Opener) -> int:
    """How many transactions stored the events (rows one transaction inserted share its xmin)."""
    return int(await opener.connection.fetchval("SELECT count(DISTINCT xmin::text) FROM audit_event"))


async def test_events_arriving_together_are_stored_in_one_commit_as_they_were_given(opener: Opener) -> None:
    writer = EventWriter(opener, WAIT)
    number = nhs_number(3)
    rows = [
        read_event(f"r{i:03d}", resource_id=number if i % 2 else None, patient=number if i % 3 else None)
        for i in range(50)
    ]
    rows[7] = event_row(
        READER, Action.UPDATE, 200, resource_type=ResourceType.APPOINTMENT, request_id="r007", changes={"a": 1}
    )
    await asyncio.gather(*(writer.write(row) for row in rows))
    stored = await opener.connection.fetch("SELECT * FROM audit_event ORDER BY request_id")
    assert [dict(row) for row in stored] == rows
    assert opener.opened == 1
    assert await commits(opener) == 1


async def test_an_event_alone_is_stored_at_once_and_the_next_starts_a_new_batch(opener: Opener) -> None:
    writer = EventWriter(opener, WAIT)
    await asyncio.wait_for(writer.write(read_event("first")), 1)
    await asyncio.wait_for(writer.write(read_event("second")), 1)
    assert await stored_request_ids(opener) == ["first", "second"]
    assert opener.opened == 2
    assert await commits(opener) == 2


async def test_a_batch_is_capped_and_the_rest_follow_in_the_next(opener: Opener) -> None:
    writer = EventWriter(opener, WAIT, max_batch=4)
    ids = [f"r{i}" for i in range(10)]
    await asyncio.gather(*(writer.write(read_event(i)) for i in ids))
    assert await stored_request_ids(opener) == ids
    assert opener.opened == 3
    assert await commits(opener) == 3


async def test_text_of_any_kind_is_stored_exactly_and_text_postgresql_cannot_hold_fails_only_its_request(
    opener: Opener,
) -> None:
    # A batch travels as one JSON document: quotes, backslashes, escapes and any script must come
    # back as they went in, and what the database or the encoder refuses must not fail the rest.
    writer = EventWriter(opener, WAIT)
    awkward = ['quo"te', "back\\slash", "\\u0041 not an escape", "Zoë 🐼 ☃ Ñ", "tab\tnew\nline", "</script>", "{}", ""]
    rows = [
        read_event(f"r{i}", resource_id=text[:64], changes=None) | {"actor": text, "roles": text}
        for i, text in enumerate(awkward)
    ]
    rows.append(
        event_row(READER, Action.UPDATE, 200, resource_type=None, request_id="r8", changes={'"k\\': ["ü", None]})
    )
    refused = [read_event("nul", resource_id="a\x00b"), read_event("surrogate", resource_id="a\ud800b")]
    outcomes = await asyncio.gather(*(writer.write(row) for row in [*rows, *refused]), return_exceptions=True)
    assert outcomes == [None] * len(rows) + [outcomes[-2], outcomes[-1]]
    assert all(isinstance(outcome, EventNotStored) for outcome in outcomes[-2:])
    stored = await opener.connection.fetch("SELECT * FROM audit_event ORDER BY request_id")
    assert [dict(row) for row in stored] == sorted(rows, key=lambda row: row["request_id"])


async def test_an_event_the_table_refuses_fails_its_own_request_only(opener: Opener) -> None:
    writer = EventWriter(opener, WAIT)
    too_long = read_event("x" * 40)  # request_id holds 32 characters
    outcomes = await asyncio.gather(
        writer.write(read_event("a")), writer.write(too_long), writer.write(read_event("b")), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [type(None), EventNotStored, type(None)]
    assert await stored_request_ids(opener) == ["a", "b"]


async def test_when_the_database_is_unreachable_each_waiting_request_is_told_and_the_writer_recovers(
    opener: Opener,
) -> None:
    writer = EventWriter(opener, WAIT)
    opener.unreachable = True
    outcomes = await asyncio.gather(*(writer.write(read_event(f"r{i}")) for i in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, EventNotStored) for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == 3  # each its own exception, no shared traceback
    opener.unreachable = False
    await asyncio.wait_for(writer.write(read_event("later")), 1)
    assert await stored_request_ids(opener) == ["later"]


async def test_a_request_that_stops_waiting_still_has_its_event_stored(opener: Opener) -> None:
    writer = EventWriter(opener, WAIT)
    gone = asyncio.create_task(writer.write(read_event("gone")))
    stays = asyncio.create_task(writer.write(read_event("stays")))
    await asyncio.sleep(0)  # both are waiting for the batch
    gone.cancel()
    await asyncio.wait_for(stays, 1)
    assert gone.cancelled()
    assert await stored_request_ids(opener) == ["gone", "stays"]


async def test_a_batch_that_gets_no_answer_fails_in_time_and_its_connection_is_not_reused(opener: Opener) -> None:
    writer = EventWriter(opener, wait_seconds=0.3)
    opener.stalled = True
    started = asyncio.get_running_loop().time()
    writes = asyncio.gather(*(writer.write(read_event(f"r{i}")) for i in range(3)), return_exceptions=True)
    outcomes = await asyncio.wait_for(writes, 3)
    assert all(isinstance(outcome, EventNotStored) for outcome in outcomes)
    assert asyncio.get_running_loop().time() - started < 1.5
    assert opener.released_after == [asyncio.CancelledError]
    opener.stalled = False
    await asyncio.wait_for(writer.write(read_event("later")), 1)
    assert await stored_request_ids(opener) == ["later"]


async def test_a_batch_on_a_broken_connection_fails_whole_and_the_connection_is_not_reused(opener: Opener) -> None:
    writer = EventWriter(opener, WAIT)
    opener.broken = True
    writes = asyncio.gather(*(writer.write(read_event(f"r{i}")) for i in range(3)), return_exceptions=True)
    outcomes = await asyncio.wait_for(writes, 3)
    assert all(isinstance(outcome, EventNotStored) for outcome in outcomes)
    # Not retried event by event on it: the error reached the pool, which closes such a connection.
    assert opener.released_after == [asyncpg.exceptions.ConnectionFailureError]
