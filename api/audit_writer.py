"""Group commit for the audit events the API writes itself (PostgreSQL): reads, refusals, failures.

Each such event must be stored before its answer leaves, and one commit per event costs the
database more than the read it records (a WAL flush each). The writer stores the events that
arrive while a commit is under way together, in one statement and one commit: under load many
reads share a flush; alone, an event is written at once, with no timer to wait for. Each request
still waits for its own event to be committed, so no answer leaves before its event is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import structlog

from api.driver_pool import leaves_connection_unsafe
from domain.audit.events import INSERT_EVENT, INSERT_EVENTS, batch_parameters
from domain.sql import SqlRunner

log = structlog.get_logger("panda.audit")

# A statement's parameters are capped (asyncpg: 32,767); a batch binds one array per column,
# so its size is bounded only to keep one commit's latency short.
MAX_BATCH = 512


class EventNotStored(Exception):
    """The event's batch could not be stored (the database refused it, or did not answer in time)."""


@dataclass(frozen=True, slots=True)
class _Waiting:
    row: Mapping[str, Any]
    stored: asyncio.Future[None]
    deadline: float  # loop time by which its request must have an answer


class EventWriter:
    """Stores audit events in batches, each request awaiting the commit of the batch holding its event.

    ``wait_seconds`` bounds how long an event may wait from its arrival to its commit (the API's
    ``DB_ACQUIRE_TIMEOUT_SECONDS``): a batch runs under the deadline of its oldest event, so an
    exhausted pool or a database that stopped answering gives each waiting request its 503 in
    time, and a stalled connection is closed rather than holding every later event behind it.
    """

    def __init__(
        self,
        open_sql: Callable[[], AbstractAsyncContextManager[SqlRunner]],
        wait_seconds: float,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._open_sql = open_sql
        self._wait_seconds = wait_seconds
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._storing: asyncio.Task[None] | None = None

    async def write(self, row: Mapping[str, Any]) -> None:
        """Store ``row`` (an ``audit_event`` row); return once it is committed, or raise EventNotStored."""
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[None] = loop.create_future()
        self._waiting.append(_Waiting(row, stored, loop.time() + self._wait_seconds))
        if self._storing is None or self._storing.done():  # done: cancelled before it ever ran
            self._storing = asyncio.create_task(self._store_while_waiting())
        # A request cancelled here (its client went away) leaves its event in the batch: the use
        # case did read or refuse what the event records, though no answer left.
        await stored

    async def _store_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._store(batch)
        except BaseException:
            _settle(self._waiting, failed=True)  # the writer is being cancelled (shutdown)
            self._waiting = []
            raise
        finally:
            self._storing = None

    async def _store(self, batch: list[_Waiting]) -> None:
        try:
            async with asyncio.timeout_at(batch[0].deadline), self._open_sql() as sql:
                try:
                    await sql.execute(INSERT_EVENTS, **batch_parameters([waiting.row for waiting in batch]))
                except Exception as exc:
                    # Retried event by event on the same connection only if the pool would reuse it
                    # (the database refused the statement); a broken one fails the whole batch.
                    if len(batch) == 1 or leaves_connection_unsafe(exc):
                        raise
                    await _store_one_by_one(sql, batch)  # a row the table refuses must not fail its neighbours
                    return
        except Exception as exc:  # noqa: BLE001 - reported to each request of the batch
            log.warning("audit.batch_failed", error=type(exc).__name__, events=len(batch))
            _settle(batch, failed=True)
            return
        except BaseException:
            _settle(batch, failed=True)
            raise
        _settle(batch, failed=False)


async def _store_one_by_one(sql: SqlRunner, batch: list[_Waiting]) -> None:
    """Each event of a refused batch alone: only the event the table refuses fails its request."""
    for waiting in batch:
        try:
            await sql.execute(INSERT_EVENT, **waiting.row)
        except Exception as exc:
            if leaves_connection_unsafe(exc):
                raise
            log.warning("audit.event_refused", error=type(exc).__name__)
            _settle([waiting], failed=True)
        else:
            _settle([waiting], failed=False)


def _settle(batch: list[_Waiting], *, failed: bool) -> None:
    for waiting in batch:
        if waiting.stored.done():
            continue  # its request was cancelled
        if failed:
            waiting.stored.set_exception(EventNotStored())  # a fresh exception each: tracebacks are not shared
        else:
            waiting.stored.set_result(None)
