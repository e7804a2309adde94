"""One contract for both SQL runners: the same statements, errors and retries behave the same.

Use cases run on :class:`AsyncpgRunner` (the API's hot paths on PostgreSQL) or on
:class:`SessionRunner` (everything else, and every SQLite database). Each test here runs on
the asyncpg runner, the session runner on PostgreSQL and the session runner on SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, bindparam, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from domain.sql import AsyncpgRunner, ConstraintViolation, Query, SessionRunner, TransientConflict, in_transaction

KINDS = ["asyncpg", "session-postgresql", "session-sqlite"]
POSTGRES_KINDS = ["asyncpg", "session-postgresql"]


def probe_table() -> Table:
    """A scratch table of this test's own, with a named unique constraint."""
    name = f"runner_probe_{uuid.uuid4().hex[:8]}"
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("name", String(50), nullable=False),
        UniqueConstraint("name", name=f"uq_{name}_name"),
    )


@pytest.fixture
async def runner(
    request: pytest.FixtureRequest, postgres_url: str, sqlite_url: str
) -> AsyncIterator[tuple[Any, Table]]:
    """A runner of the requested kind over a fresh scratch table, dropped afterwards."""
    kind: str = request.param
    table = probe_table()
    url = sqlite_url if kind.endswith("sqlite") else postgres_url
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    try:
        if kind == "asyncpg":
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            connection = await asyncpg.connect(dsn)
            try:
                yield AsyncpgRunner(connection), table
            finally:
                await connection.close()
        else:
            async with AsyncSession(engine) as session:
                yield SessionRunner(session), table
                if session.in_transaction():
                    await session.commit()
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.drop_all)
        await engine.dispose()


def _insert(table: Table) -> Query:
    return Query(insert(table).values(id=bindparam("id"), name=bindparam("name")))


async def _names(sql: Any, table: Table) -> list[str]:
    return [row["name"] for row in await sql.fetch_all(select(table.c.name).order_by(table.c.id))]


@pytest.mark.parametrize("runner", KINDS, indirect=True)
async def test_every_call_returns_rows_by_column_name(runner) -> None:
    sql, table = runner
    async with sql.transaction():
        await sql.execute(_insert(table), id=1, name="a")
        await sql.execute_many(_insert(table), [{"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
        await sql.execute_many(_insert(table), [])
    one = await sql.fetch_one(select(table.c.id, table.c.name).where(table.c.id == 2))
    assert (one["id"], one["name"]) == (2, "b")
    assert await sql.fetch_one(select(table.c.id).where(table.c.id == 99)) is None
    assert await sql.scalar(select(table.c.name).where(table.c.id == bindparam("id")), id=3) == "c"
    assert await _names(sql, table) == ["a", "b", "c"]


@pytest.mark.parametrize("runner", KINDS, indirect=True)
@pytest.mark.parametrize("call", ["fetch_one", "fetch_all", "scalar", "execute", "execute_many"])
async def test_a_constraint_violation_is_translated_in_every_call(runner, call: str) -> None:
    sql, table = runner
    async with sql.transaction():
        await sql.execute(_insert(table), id=1, name="taken")
    clash = _insert(table).statement.returning(table.c.id)
    with pytest.raises(ConstraintViolation) as caught:
        async with sql.transaction():
            if call == "execute_many":
                await sql.execute_many(_insert(table), [{"id": 2, "name": "free"}, {"id": 3, "name": "taken"}])
            else:
                await getattr(sql, call)(clash, id=2, name="taken")
    assert "name" in caught.value.name
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert await _names(sql, table) == ["taken"]


@pytest.mark.parametrize("runner", KINDS, indirect=True)
async def test_a_failed_transaction_keeps_nothing_and_a_failed_savepoint_keeps_the_rest(runner) -> None:
    sql, table = runner
    with pytest.raises(RuntimeError):
        async with sql.transaction():
            await sql.execute(_insert(table), id=1, name="lost")
            raise RuntimeError
    assert await _names(sql, table) == []

    async with sql.transaction():
        await sql.execute(_insert(table), id=2, name="kept")
        with pytest.raises(ConstraintViolation):
            async with sql.transaction():
                await sql.execute(_insert(table), id=3, name="inner")
                await sql.execute(_insert(table), id=4, name="kept")
        await sql.execute(_insert(table), id=5, name="after")
    assert await _names(sql, table) == ["kept", "after"]


@pytest.mark.parametrize("runner", KINDS, indirect=True)
async def test_in_transaction_runs_again_from_the_start_after_a_transient_conflict(runner) -> None:
    sql, table = runner
    attempts = []

    async def work() -> str:
        attempts.append(len(attempts) + 1)
        await sql.execute(_insert(table), id=len(attempts), name=f"try {len(attempts)}")
        if len(attempts) == 1:
            raise TransientConflict
        return "done"

    assert await in_transaction(sql, work) == "done"
    assert attempts == [1, 2]
    assert await _names(sql, table) == ["try 2"]


@pytest.mark.parametrize("runner", POSTGRES_KINDS, indirect=True)
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_deadlock_or_serialisation_failure_is_a_transient_conflict_and_retried(runner, sqlstate: str) -> None:
    """PostgreSQL aborts one of two deadlocked transactions (40P01) or a serialisation failure (40001)."""
    sql, table = runner
    fail = text(f"DO $$ BEGIN RAISE EXCEPTION 'aborted' USING ERRCODE = '{sqlstate}'; END $$")
    attempts = []

    async def work() -> int:
        attempts.append(1)
        await sql.execute(_insert(table), id=len(attempts), name=f"try {len(attempts)}")
        if len(attempts) == 1:
            await sql.execute(fail)
        return len(attempts)

    with pytest.raises(TransientConflict):
        async with sql.transaction():
            await sql.execute(fail)
    assert await in_transaction(sql, work) == 2
    assert await _names(sql, table) == ["try 2"]


@pytest.mark.parametrize("runner", KINDS, indirect=True)
async def test_in_transaction_gives_up_after_its_attempts(runner) -> None:
    sql, _table = runner
    calls = []

    async def always_conflicting() -> None:
        calls.append(1)
        raise TransientConflict

    with pytest.raises(TransientConflict):
        await in_transaction(sql, always_conflicting, attempts=3)
    assert len(calls) == 3


@pytest.mark.parametrize("runner", KINDS, indirect=True)
async def test_is_in_transaction_says_whether_what_ran_is_still_uncommitted(runner) -> None:
    sql, table = runner
    async with sql.transaction():
        await sql.execute(_insert(table), id=1, name="inside")
        assert sql.is_in_transaction()
    assert not sql.is_in_transaction()
    await sql.execute(_insert(table), id=2, name="bare")
    # Outside a transaction asyncpg commits each statement; a session keeps it for its owner to commit.
    assert sql.is_in_transaction() is isinstance(sql, SessionRunner)
