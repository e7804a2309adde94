"""Set-based helpers shared by the patient and appointment chunks: the driver, lookups, seen keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import ColumnElement, bindparam, select

from domain.dialects import Dialect, insert_ignoring_conflicts, takes_arrays
from domain.jobs.store import KEY
from domain.sql import AsyncpgRunner, Query, SessionRunner, SqlRunner

T = TypeVar("T")
# Well under SQLite's limit on bound parameters per statement.
IN_BATCH = 500

CLAIM_KEYS_PG = """
INSERT INTO job_key (job_id, key) SELECT $1, k FROM unnest($2::text[]) AS k
ON CONFLICT DO NOTHING RETURNING key
"""
INSERT_KEY_SQLITE = Query(
    insert_ignoring_conflicts(KEY, Dialect.SQLITE).values(job_id=bindparam("job_id"), key=bindparam("key"))
)


def batches(items: Sequence[T], size: int = IN_BATCH) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def driver(sql: SqlRunner) -> asyncpg.Connection:
    """The asyncpg connection under a PostgreSQL runner, inside the runner's transaction."""
    if isinstance(sql, AsyncpgRunner):
        return sql.connection
    assert isinstance(sql, SessionRunner)
    connection = await sql.session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection  # type: ignore[return-value]


async def existing(sql: SqlRunner, column: ColumnElement[Any], values: Iterable[Any]) -> set[Any]:
    """Which of ``values`` are stored in ``column``."""
    wanted = sorted(set(values), key=str)
    found: set[Any] = set()
    for batch in batches(wanted):
        rows = await sql.fetch_all(select(column).where(column.in_(list(batch))))
        found.update(row[column.name] for row in rows)
    return found


async def claim_keys(sql: SqlRunner, job_id: uuid.UUID, keys: Sequence[str]) -> set[str]:
    """Record keys a validation has seen; return those seen here for the first time in the job.

    On PostgreSQL concurrent chunks agree through the primary key (``ON CONFLICT DO NOTHING``);
    SQLite runs one write transaction at a time, so reading then writing is exact.
    """
    # Sorted: concurrent chunks then lock shared keys in the same order and cannot deadlock.
    unique = sorted(set(keys))
    if takes_arrays(sql.dialect):
        rows = await (await driver(sql)).fetch(CLAIM_KEYS_PG, job_id, unique)
        return {row["key"] for row in rows}
    seen = await existing_keys(sql, job_id, unique)
    new = [key for key in unique if key not in seen]
    if new:
        await sql.execute_many(INSERT_KEY_SQLITE, [{"job_id": job_id, "key": key} for key in new])
    return set(new)


async def existing_keys(sql: SqlRunner, job_id: uuid.UUID, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` this job has already seen."""
    found: set[str] = set()
    for batch in batches(keys):
        stmt = select(KEY.c.key).where(KEY.c.job_id == job_id, KEY.c.key.in_(list(batch)))
        found.update(row["key"] for row in await sql.fetch_all(stmt))
    return found
