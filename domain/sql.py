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
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

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
    """A one-off statement with its parameters, as asyncpg takes them (``$1`` … in order)."""
    late = dict(params)
    if params and not isinstance(statement, UpdateBase):
        # Bound before compiling, so expanding ``IN`` lists are rendered with their values.
        statement = statement.params(**params)  # type: ignore[attr-defined]
        late = {}
    compiled = cast(
        SQLCompiler, cast(ClauseElement, statement).compile(dialect=_PG, compile_kwargs={"render_postcompile": True})
    )
    values = compiled.construct_params(late) if late else compiled.params
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
    def is_in_transaction(self) -> bool: ...


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
        except _ASYNCPG_ERRORS as exc:
            raise translated_error(exc) from None

    async def fetch_all(self, query: Query | Executable, **params: Any) -> Sequence[Mapping[str, Any]]:
        sql, args = self._prepare(query, params)
        try:
            return await self.connection.fetch(sql, *args)  # type: ignore[no-any-return]
        except _ASYNCPG_ERRORS as exc:
            raise translated_error(exc) from None

    async def scalar(self, query: Query | Executable, **params: Any) -> Any:
        sql, args = self._prepare(query, params)
        try:
            return await self.connection.fetchval(sql, *args)
        except _ASYNCPG_ERRORS as exc:
            raise translated_error(exc) from None

    async def execute(self, query: Query | Executable, **params: Any) -> None:
        sql, args = self._prepare(query, params)
        try:
            await self.connection.execute(sql, *args)
        except _ASYNCPG_ERRORS as exc:
            raise translated_error(exc) from None

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        prepared = [self._prepare(query, row)[1] for row in rows]
        try:
            await self.connection.executemany(query.for_asyncpg()[0], prepared)
        except _ASYNCPG_ERRORS as exc:
            raise translated_error(exc) from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction (a savepoint when nested); rolled back if the block raises."""
        async with self.connection.transaction():
            yield

    def is_in_transaction(self) -> bool:
        """Whether what was run is still uncommitted (outside a transaction each statement commits)."""
        return bool(self.connection.is_in_transaction())


def _first_line(exc: BaseException) -> str:
    """PostgreSQL's primary message names columns and constraints; the values are in its DETAIL lines."""
    return str(exc).split("\n", 1)[0]


class SessionRunner:
    """Runs statements in a SQLAlchemy session (any database), with the same contract as :class:`AsyncpgRunner`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    @staticmethod
    def _statement(query: Query | Executable) -> Executable:
        return query.statement if isinstance(query, Query) else query

    async def _execute(self, query: Query | Executable, params: Any) -> Any:
        try:
            return await self.session.execute(self._statement(query), params or None)
        except DBAPIError as exc:
            mapped = translated_error(exc)
            if mapped is exc:
                raise
            raise mapped from None

    async def fetch_one(self, query: Query | Executable, **params: Any) -> Mapping[str, Any] | None:
        result = await self._execute(query, params)
        if not result.returns_rows:
            return None
        return cast("Mapping[str, Any] | None", result.mappings().one_or_none())

    async def fetch_all(self, query: Query | Executable, **params: Any) -> Sequence[Mapping[str, Any]]:
        result = await self._execute(query, params)
        return cast("list[Mapping[str, Any]]", list(result.mappings().all()))

    async def scalar(self, query: Query | Executable, **params: Any) -> Any:
        return (await self._execute(query, params)).scalar()

    async def execute(self, query: Query | Executable, **params: Any) -> None:
        await self._execute(query, params)

    async def execute_many(self, query: Query, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            await self._execute(query, list(rows))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction (a savepoint when the session is already in one); rolled back if the block raises.

        Inside a unit of work its owner began (a request on SQLite, a job chunk) the savepoint lets
        :func:`in_transaction` undo a failed attempt without losing what came before it.
        """
        if self.session.in_transaction():
            async with self.session.begin_nested():
                yield
        else:
            async with self.session.begin():
                yield

    def is_in_transaction(self) -> bool:
        """Whether what was run is still uncommitted (the session's owner commits it)."""
        return self.session.in_transaction()


# PostgreSQL SQLSTATE class 40: the transaction was rolled back (deadlock, serialisation failure).
_TRANSACTION_ROLLBACK = "40"
_ASYNCPG_ERRORS = (asyncpg.IntegrityConstraintViolationError, asyncpg.TransactionRollbackError)


def translated_error(exc: BaseException) -> BaseException:
    """The contract's error for a driver error: :class:`ConstraintViolation`, :class:`TransientConflict`,
    or ``exc`` itself when it is neither. Works on asyncpg's errors and on SQLAlchemy's wrappers of any
    driver's; the translations carry no statement text or values (they can hold patient data)."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return ConstraintViolation(str(getattr(exc, "constraint_name", "") or type(exc).__name__).lower())
    if isinstance(exc, asyncpg.TransactionRollbackError):
        return TransientConflict()
    if isinstance(exc, DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if sqlstate.startswith(_TRANSACTION_ROLLBACK):
            return TransientConflict()
        if isinstance(exc, IntegrityError):
            return ConstraintViolation(_constraint_name(exc))
    return exc


def _constraint_name(exc: IntegrityError) -> str:
    """The violated constraint's name (asyncpg says it; SQLite only says it in its message)."""
    cause: BaseException | None = exc.orig
    while cause is not None:
        name = getattr(cause, "constraint_name", None)
        if name:
            return str(name).lower()
        cause = cause.__cause__
    return _first_line(exc.orig if exc.orig is not None else exc).lower()
