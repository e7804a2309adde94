"""The API's connection pool on a real PostgreSQL: bounded, reused, waited for with a deadline,
and never handing out a connection a request left in a transaction or a broken state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import asyncpg
import pytest

from api.driver_pool import DriverPool, PoolClosed
from tests.conftest import _plain_dsn


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[DriverPool]:
    opened = DriverPool(partial(asyncpg.connect, _plain_dsn(postgres_url), timeout=5), max_size=2)
    yield opened
    await opened.close()


async def _backend(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def _waiting_for(pool: DriverPool) -> asyncio.Task[asyncpg.Connection]:
    """A request waiting (up to 5 s) for a connection of a pool whose every place is taken."""
    waiting = asyncio.create_task(pool.acquire(timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    return waiting


async def test_an_idle_connection_is_reused_and_at_most_max_size_are_opened(pool: DriverPool) -> None:
    first = await pool.acquire()
    pid = await _backend(first)
    await pool.release(first)
    again = await pool.acquire()
    assert await _backend(again) == pid
    other = await pool.acquire()
    assert await _backend(other) != pid
    assert pool.size == 2
    with pytest.raises(TimeoutError):
        await pool.acquire(timeout=0.2)
    assert pool.size == 2
    await pool.release(again)
    await pool.release(other)
    assert pool.idle == 2


async def test_a_waiting_request_gets_the_next_released_connection(pool: DriverPool) -> None:
    held = [await pool.acquire(), await pool.acquire()]
    waiting = await _waiting_for(pool)
    await pool.release(held[0])
    assert await asyncio.wait_for(waiting, 1) is held[0]
    await pool.release(held[0])
    await pool.release(held[1])


async def test_a_timed_out_wait_loses_no_connection(pool: DriverPool) -> None:
    held = [await pool.acquire(), await pool.acquire()]
    for _ in range(5):
        with pytest.raises(TimeoutError):
            await pool.acquire(timeout=0.01)
    for connection in held:
        await pool.release(connection)
    assert (pool.size, pool.idle) == (2, 2)
    both = [await pool.acquire(timeout=0.2), await pool.acquire(timeout=0.2)]
    for connection in both:
        await pool.release(connection)


async def test_a_transaction_left_open_is_rolled_back_before_reuse(pool: DriverPool) -> None:
    connection = await pool.acquire()
    await connection.execute("CREATE TEMP TABLE IF NOT EXISTS pool_probe (n int)")
    await connection.execute("BEGIN")
    await connection.execute("INSERT INTO pool_probe VALUES (1)")
    await pool.release(connection)  # as a request that failed mid-transaction leaves it
    again = await pool.acquire()
    assert again is connection
    assert not again.is_in_transaction()
    assert await again.fetchval("SELECT count(*) FROM pool_probe") == 0
    await pool.release(again)


@pytest.mark.parametrize(
    "failure",
    [asyncio.CancelledError(), asyncpg.InterfaceError("another operation is in progress"), ConnectionResetError()],
)
async def test_a_connection_whose_request_broke_is_closed_and_replaced(
    pool: DriverPool, failure: BaseException
) -> None:
    connection = await pool.acquire()
    pid = await _backend(connection)
    await pool.release(connection, failure)
    assert connection.is_closed()
    assert pool.size == 0
    fresh = await pool.acquire()
    assert await _backend(fresh) != pid
    await pool.release(fresh)


async def test_a_domain_error_keeps_the_connection(pool: DriverPool) -> None:
    connection = await pool.acquire()
    await pool.release(connection, ValueError("a 400, say"))
    assert (pool.size, pool.idle) == (1, 1)
    assert await pool.acquire() is connection
    await pool.release(connection)


async def test_a_connection_the_server_closed_is_not_handed_out(pool: DriverPool, postgres_url: str) -> None:
    connection = await pool.acquire()
    pid = await _backend(connection)
    await pool.release(connection)
    admin = await asyncpg.connect(_plain_dsn(postgres_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    for _ in range(50):  # the client notices the closed socket on its next read
        if connection.is_closed():
            break
        await asyncio.sleep(0.02)
    fresh = await pool.acquire()
    assert await _backend(fresh) != pid
    await pool.release(fresh)
    assert pool.size == 1


async def test_a_discarded_connection_frees_its_place_for_a_waiter(pool: DriverPool) -> None:
    held = [await pool.acquire(), await pool.acquire()]
    waiting = await _waiting_for(pool)
    await pool.release(held[0], asyncio.CancelledError())
    fresh = await asyncio.wait_for(waiting, 5)
    assert fresh is not held[0] and not fresh.is_closed()
    assert pool.size == 2
    await pool.release(fresh)
    await pool.release(held[1])


async def test_closing_refuses_waiters_and_closes_connections_as_they_return(pool: DriverPool) -> None:
    first, busy = await pool.acquire(), await pool.acquire()
    waiting = await _waiting_for(pool)
    await pool.release(first)  # handed to the waiter
    handed = await asyncio.wait_for(waiting, 1)
    assert handed is first
    waiting = await _waiting_for(pool)
    await pool.close()
    with pytest.raises(PoolClosed):
        await waiting
    await pool.release(handed)
    await pool.release(busy)
    assert handed.is_closed() and busy.is_closed()
    assert pool.size == 0
    with pytest.raises(PoolClosed):
        await pool.acquire()


async def test_closing_closes_the_idle_connections(pool: DriverPool) -> None:
    connection = await pool.acquire()
    await pool.release(connection)
    await pool.close()
    assert connection.is_closed()
    assert pool.size == 0


async def test_a_freed_place_goes_to_the_longest_waiter_not_a_newcomer(pool: DriverPool) -> None:
    held = [await pool.acquire(), await pool.acquire()]
    waiting = await _waiting_for(pool)
    await pool.release(held[0], asyncio.CancelledError())  # discarded: its place is the waiter's
    with pytest.raises(TimeoutError):
        await pool.acquire(timeout=0.05)  # a newcomer finds the place taken
    fresh = await asyncio.wait_for(waiting, 5)
    assert not fresh.is_closed() and pool.size == 2
    await pool.release(fresh)
    await pool.release(held[1])


async def test_a_failed_roll_back_discards_the_connection_and_the_request_goes_on(
    pool: DriverPool, postgres_url: str
) -> None:
    connection = await pool.acquire()
    pid = await _backend(connection)
    await connection.execute("BEGIN")
    admin = await asyncpg.connect(_plain_dsn(postgres_url))
    try:  # the server drops it mid-transaction: the roll-back on release cannot succeed
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await pool.release(connection)  # no exception: the request's answer is not the pool's business
    assert pool.size == 0
    fresh = await pool.acquire()
    assert await _backend(fresh) != pid and not fresh.is_in_transaction()
    await pool.release(fresh)
