"""A lost database is a 503 the client may retry, whichever driver said so; a deadlock is retried first."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from api.problems import from_unexpected
from domain.sql import TransientConflict, in_transaction

UNAVAILABLE = [
    ConnectionRefusedError(111, "refused"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("connection is closed"),
    asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    TransientConflict(),
]


def wrapped_by_sqlalchemy(error: Exception) -> DBAPIError:
    """How the SQLAlchemy session paths see a driver error: wrapped, the driver's as its cause."""
    try:
        try:
            raise error
        except Exception as exc:
            raise DBAPIError("SELECT 1", {}, Exception("adapted")) from exc
    except DBAPIError as outer:
        return outer


@pytest.mark.parametrize("error", UNAVAILABLE, ids=lambda e: type(e).__name__)
def test_a_lost_database_is_503_with_retry_after(error: Exception) -> None:
    for raised in (error, wrapped_by_sqlalchemy(error)):
        problem = from_unexpected(raised)
        assert (problem.status_code, problem.code) == (503, "service.unavailable")
        assert problem.headers == {"Retry-After": "5"}


@pytest.mark.parametrize("error", [ValueError("bug"), KeyError("x"), asyncpg.UniqueViolationError("dup")])
def test_anything_else_is_500(error: Exception) -> None:
    assert from_unexpected(error).status_code == 500


class FakeRunner:
    """Just enough of a SQL runner: counts the transactions opened."""

    dialect = "postgresql"

    def __init__(self) -> None:
        self.transactions = 0

    @asynccontextmanager
    async def transaction(self) -> Any:
        self.transactions += 1
        yield


async def test_a_deadlocked_transaction_runs_again_from_the_start() -> None:
    runner, failures = FakeRunner(), [TransientConflict(), TransientConflict()]

    async def work() -> str:
        if failures:
            raise failures.pop()
        return "done"

    assert await in_transaction(runner, work) == "done"  # type: ignore[arg-type]
    assert runner.transactions == 3


async def test_retries_end_and_other_errors_are_not_retried() -> None:
    runner = FakeRunner()

    async def always_deadlocked() -> None:
        raise TransientConflict

    with pytest.raises(TransientConflict):
        await in_transaction(runner, always_deadlocked, attempts=3)  # type: ignore[arg-type]
    assert runner.transactions == 3

    async def refused() -> None:
        raise ValueError("a rule")

    with pytest.raises(ValueError, match="a rule"):
        await in_transaction(runner, refused)  # type: ignore[arg-type]
    assert runner.transactions == 4
