"""The API's pool of asyncpg connections: a list of idle ones and a queue of waiting requests.

asyncpg's own ``Pool`` cost every request about 20 µs of CPU to hand a connection back
(``release`` shields a new task per call, which the event loop runs one iteration later): a
twentieth of a patient read. This pool does only what the API needs, in a few lines:

- at most ``max_size`` connections, opened when first needed, idle ones reused newest first;
- ``acquire(timeout)``: an idle connection at once, else a new one, else a wait of at most
  ``timeout`` seconds (``TimeoutError``, which the API answers with 503);
- ``release(connection, failed)``: an interrupted transaction is rolled back; a connection that
  is closed, whose roll-back fails, or whose request ended in a driver error or a cancellation
  (the protocol may be mid-query) is closed and its place freed for a fresh one.

Connections carry no session state (no ``SET``, ``LISTEN`` or session locks are used), so
nothing else is reset between requests.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]
# A request that ended with one of these may have left its connection mid-protocol: not reused.
_UNSAFE = (
    asyncpg.InvalidCachedStatementError,  # a fresh connection prepares its statements anew
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    OSError,
    TimeoutError,
)


def leaves_connection_unsafe(failed: BaseException | None) -> bool:
    """Whether work that ended with ``failed`` may have left its connection mid-protocol (not reused)."""
    return isinstance(failed, _UNSAFE) or not isinstance(failed, Exception | None)


class PoolClosed(ConnectionError):
    """The API is shutting down: no more connections are handed out (answered with 503)."""


class DriverPool:
    """At most ``max_size`` asyncpg connections shared by the API's requests (see the module's docstring)."""

    def __init__(self, connect: Connect, max_size: int, reset_timeout: float = 5.0) -> None:
        self._connect = connect
        self._max_size = max_size
        self._reset_timeout = reset_timeout  # for the roll-back of a transaction a request left open
        self._size = 0  # connections open or being opened
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closing = False

    @property
    def size(self) -> int:
        """Connections open or being opened."""
        return self._size

    @property
    def idle(self) -> int:
        """Connections waiting for a request."""
        return len(self._idle)

    async def acquire(self, timeout: float | None = None) -> asyncpg.Connection:
        """A connection of the pool's, waiting at most ``timeout`` seconds for one (``TimeoutError``)."""
        if not self._closing and (connection := self._take_idle()) is not None:
            return connection  # the common case: no timer, no await
        if timeout is None:
            return await self._open_or_wait()
        async with asyncio.timeout(timeout):
            return await self._open_or_wait()

    async def _open_or_wait(self) -> asyncpg.Connection:
        while True:
            if self._closing:
                raise PoolClosed("the pool is closed")
            if (connection := self._take_idle()) is not None:
                return connection
            if self._size < self._max_size:
                self._size += 1
                return await self._open()
            connection = await self._wait()
            if connection is not None:
                return connection
            # None: a connection was discarded and its place kept for this request.
            if self._closing:
                self._size -= 1
                raise PoolClosed("the pool is closed")
            return await self._open()

    async def release(self, connection: asyncpg.Connection, failed: BaseException | None = None) -> None:
        """Give ``connection`` back; ``failed``: what ended the work done on it, if anything."""
        if connection.is_closed() or leaves_connection_unsafe(failed):
            self._discard(connection)
            return
        if connection.is_in_transaction():
            try:
                async with asyncio.timeout(self._reset_timeout):
                    await connection.execute("ROLLBACK")
            except asyncio.CancelledError:
                self._discard(connection)
                raise
            except Exception:  # noqa: BLE001 - broken or unresponsive: its work is undone with it either way
                self._discard(connection)
                return
        if self._closing:
            self._size -= 1
            await connection.close()
            return
        if (waiter := self._next_waiter()) is not None:
            waiter.set_result(connection)
        else:
            self._idle.append(connection)

    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[asyncpg.Connection]:
        """``acquire`` and ``release`` around a block."""
        connection = await self.acquire(timeout)
        try:
            yield connection
        except BaseException as exc:
            await self.release(connection, exc)
            raise
        await self.release(connection)

    async def close(self) -> None:
        """Close the idle connections now and the others as they come back; refuse new requests."""
        self._closing = True
        while (waiter := self._next_waiter()) is not None:
            waiter.set_exception(PoolClosed("the pool is closed"))
        idle, self._idle = self._idle, []
        self._size -= len(idle)
        await asyncio.gather(*(connection.close() for connection in idle), return_exceptions=True)

    async def _open(self) -> asyncpg.Connection:
        """Open a connection in a place already counted in ``_size``."""
        try:
            return await self._connect()
        except BaseException:
            self._give_up_place()  # someone waiting may have better luck opening one
            raise

    async def _wait(self) -> asyncpg.Connection | None:
        waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()  # handed over just as the wait ended: pass it on
                if handed is not None:
                    await self.release(handed)
                else:
                    self._give_up_place()
            else:
                waiter.cancel()  # skipped by whoever hands over next
            raise

    def _take_idle(self) -> asyncpg.Connection | None:
        """The newest idle connection still open (closed ones met on the way give up their place)."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._size -= 1
        return None

    def _next_waiter(self) -> asyncio.Future[asyncpg.Connection | None] | None:
        """The longest waiter still waiting (those that timed out are dropped on the way)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                return waiter
        return None

    def _discard(self, connection: asyncpg.Connection) -> None:
        connection.terminate()
        self._give_up_place()

    def _give_up_place(self) -> None:
        """A place came free: keep it for the longest waiter (it opens a connection there), so that
        a request arriving later cannot take it first."""
        if (waiter := self._next_waiter()) is not None:
            waiter.set_result(None)  # the place stays counted in ``_size``, now the waiter's
        else:
            self._size -= 1
