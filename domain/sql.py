"""One way for use cases to run SQL: SQLAlchemy Core statements, on the driver where it pays.

The API's hot paths run on a raw asyncpg connection (benchmarks: the ORM session costs most
of the throughput); everything else, and every SQLite database, runs through a SQLAlchemy
session. Statements are written once in Core either way; :class:`Query` compiles a constant
statement once per process for asyncpg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

import asyncpg
from sqlalchemy import ClauseElement, Executable
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

_PG = asyncpg_dialect()  # type: ignore[no-untyped-call]
T = TypeVar("T")


class ConstraintViolation(Exception):
    """A write was refused by a database constraint; ``name`` says which (lower case)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class TransientConflict(Exception):
    """The database aborted the transaction to break a deadlock or a serialisation conflict.

    Nothing it did was kept, so running it again from the start is safe: see :func:`in_transaction`.
    """


async def in_transaction(sql: SqlRunner, work: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run ``work`` in a transaction, again from the start if the database aborted it to break a deadlock.

    Two bookings whose intervals clash can deadlock inside PostgreSQL's exclusion-constraint
    check, each waiting for the other's uncommitted row, and the database aborts one. Run again,
    it meets the winner's committed row and gets its 409 instead of a 500.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with sql.transaction():
                return await work()
        except TransientConflict:
            if attempt == attempts:
                raise
    raise AssertionError("attempts must be at least 1")


class Query:
    """A constant statement with named ``bindparam`` slots, compiled once for asyncpg."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: tuple[str, tuple[str, ...], dict[str, Any]] | None = None

    def for_asyncpg(self) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        """SQL text, parameter order and constant values, compiled on first use."""
        if self._compiled is None:
            compiled = cast(SQLCompiler, cast(ClauseElement, self.statement).compile(dialect=_PG))
            self._compiled = (compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))
        return self._compiled


def _compile_once(statement: Executable, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    if params:
        statement = statement.params(**params)  # type: ignore[attr-defined]
    compiled = cast(
        SQLCompiler, cast(ClauseElement, statement).compile(dialect=_PG, compile_kwargs={"render_postcompile": True})
    )
    values = compiled.params
    return compiled.string, [values[name] for name in compiled.positiontup or ()]


class SqlRunner(Protocol):
    """What a use case needs from a database connection."""

    dialect: str

    async def fetch_one(self, query: Query | Executable, **params: Any) -> Mapping[str, Any] | None: ...
    async def fetch_all(self, query: Query | Executable, **params: Any) -> Sequence[Mapping[str, Any]]: ...
    async def scalar(self, query: Query | Executable, **params: Any) -> Any: ...
    async def execute(self, query: Query | Executable, **params: Any) -> None: ...
    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]]) -> None: ...
    def transaction(self) -> Any: ...


class AsyncpgRunner:
    """Runs statements on one asyncpg connection; each call outside a transaction autocommits."""

    dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    def _prepare(self, query: Query | Executable, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        if isinstance(query, Query):
            sql, names, defaults = query.for_asyncpg()
            values = {**defaults, **params}
            return sql, [values[name] for name in names]
        return _compile_once(query, params)

    async def fetch_one(self, query: Query | Executable, **params: Any) -> Mapping[str, Any] | None:
        sql, args = self._prepare(query, params)
        try:
            return await self.connection.fetchrow(sql, *args)  # type: ignore[no-any-return]
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _violation(exc) from None
        except asyncpg.TransactionRollbackError:
            raise TransientConflict from None

    async def fetch_all(self, query: Query | Executable, **params: Any) -> Sequence[Mapping[str, Any]]:
        sql, args = self._prepare(query, params)
        try:
            return await self.connection.fetch(sql, *args)  # type: ignore[no-any-return]
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _violation(exc) from None
        except asyncpg.TransactionRollbackError:
            raise TransientConflict from None

    async def scalar(self, query: Query | Executable, **params: Any) -> Any:
        sql, args = self._prepare(query, params)
        try:
            return await self.connection.fetchval(sql, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _violation(exc) from None
        except asyncpg.TransactionRollbackError:
            raise TransientConflict from None

    async def execute(self, query: Query | Executable, **params: Any) -> None:
        sql, args = self._prepare(query, params)
        try:
            await self.connection.execute(sql, *args)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _violation(exc) from None
        except asyncpg.TransactionRollbackError:
            raise TransientConflict from None

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]]) -> None:
        prepared = [self._prepare(query, row)[1] for row in rows]
        try:
            await self.connection.executemany(query.for_asyncpg()[0], prepared)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise _violation(exc) from None
        except asyncpg.TransactionRollbackError:
            raise TransientConflict from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction (a savepoint when nested); rolled back if the block raises."""
        async with self.connection.transaction():
            yield


def _violation(exc: asyncpg.IntegrityConstraintViolationError) -> ConstraintViolation:
    return ConstraintViolation(str(getattr(exc, "constraint_name", "") or _first_line(exc)).lower())


def _first_line(exc: BaseException) -> str:
    """PostgreSQL's primary message names columns and constraints; the values are in its DETAIL lines."""
    return str(exc).split("\n", 1)[0]


class SessionRunner:
    """Runs statements in a SQLAlchemy session's transaction; its owner commits or rolls back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    @staticmethod
    def _statement(query: Query | Executable) -> Executable:
        return query.statement if isinstance(query, Query) else query

    async def fetch_one(self, query: Query | Executable, **params: Any) -> Mapping[str, Any] | None:
        async with _translated_sqlalchemy_errors():
            result = await self.session.execute(self._statement(query), params or None)
            if not result.returns_rows:  # type: ignore[attr-defined]
                return None
            return cast("Mapping[str, Any] | None", result.mappings().one_or_none())

    async def fetch_all(self, query: Query | Executable, **params: Any) -> Sequence[Mapping[str, Any]]:
        result = await self.session.execute(self._statement(query), params or None)
        return cast("list[Mapping[str, Any]]", list(result.mappings().all()))

    async def scalar(self, query: Query | Executable, **params: Any) -> Any:
        async with _translated_sqlalchemy_errors():
            return (await self.session.execute(self._statement(query), params or None)).scalar()

    async def execute(self, query: Query | Executable, **params: Any) -> None:
        async with _translated_sqlalchemy_errors():
            await self.session.execute(self._statement(query), params or None)

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            async with _translated_sqlalchemy_errors():
                await self.session.execute(self._statement(query), list(rows))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """The session is already in its owner's transaction: a failed use case is rolled back there."""
        yield


@asynccontextmanager
async def _translated_sqlalchemy_errors() -> AsyncIterator[None]:
    try:
        yield
    except IntegrityError as exc:
        cause: BaseException | None = exc.orig
        while cause is not None:
            name = getattr(cause, "constraint_name", None)
            if name:
                raise ConstraintViolation(str(name).lower()) from None
            cause = cause.__cause__
        raise ConstraintViolation(_first_line(exc.orig or exc).lower()) from None
