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
from typing import Any

import structlog

from domain.audit.events import INSERT_EVENT, INSERT_EVENTS, event_columns
from domain.sql import SqlRunner

log = structlog.get_logger("panda.audit")

# A statement's parameters are capped (asyncpg: 32,767); a batch binds one array per column,
# so its size is bounded only to keep one commit's latency short.
MAX_BATCH = 512


class EventNotStored(Exception):
    """The event's batch could not be stored (the database refused it or could not be reached)."""


Waiting = tuple[Mapping[str, Any], "asyncio.Future[None]"]


class EventWriter:
    """Stores audit events in batches, each request awaiting the commit of the batch holding its event."""

    def __init__(
        self, open_sql: Callable[[], AbstractAsyncContextManager[SqlRunner]], max_batch: int = MAX_BATCH
    ) -> None:
        self._open_sql = open_sql
        self._max_batch = max_batch
        self._waiting: list[Waiting] = []
        self._storing: asyncio.Task[None] | None = None

    async def write(self, row: Mapping[str, Any]) -> None:
        """Store ``row`` (an ``audit_event`` row); return once it is committed, or raise EventNotStored."""
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, stored))
        if self._storing is None:
            self._storing = asyncio.create_task(self._store_while_waiting())
        # A request cancelled here (its client went away) leaves its event in the batch: it is
        # still stored, as the data it concerns may already have been sent.
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

    async def _store(self, batch: list[Waiting]) -> None:
        try:
            async with self._open_sql() as sql:
                try:
                    await sql.execute(INSERT_EVENTS, **event_columns(row for row, _ in batch))
                except Exception:
                    if len(batch) == 1:
                        raise
                    await _store_one_by_one(sql, batch)
                    return
        except Exception as exc:  # noqa: BLE001 - reported to each request of the batch
            log.warning("audit.batch_failed", error=type(exc).__name__, events=len(batch))
            _settle(batch, failed=True)
            return
        except BaseException:
            _settle(batch, failed=True)
            raise
        _settle(batch, failed=False)


async def _store_one_by_one(sql: SqlRunner, batch: list[Waiting]) -> None:
    """Each event of a refused batch alone: only the event the table refuses fails its request."""
    for row, stored in batch:
        try:
            await sql.execute(INSERT_EVENT, **row)
        except Exception as exc:  # noqa: BLE001 - reported to that request alone
            log.warning("audit.event_refused", error=type(exc).__name__)
            _settle([(row, stored)], failed=True)
        else:
            _settle([(row, stored)], failed=False)


def _settle(batch: list[Waiting], *, failed: bool) -> None:
    for _row, stored in batch:
        if stored.done():
            continue  # its request was cancelled
        if failed:
            stored.set_exception(EventNotStored())  # a fresh exception each: tracebacks are not shared
        else:
            stored.set_result(None)
