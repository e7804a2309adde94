"""Dependency providers: a SQL runner per request, and the services on top of it.

On PostgreSQL the runner is a raw asyncpg connection from the API's pool (the hot paths'
benchmark showed the ORM session costing most of the throughput); on SQLite it is the
request's SQLAlchemy session, committed by advanced-alchemy's autocommit handler. Which one is
chosen once, by ``create_app`` (``app.state.request_sql``); each service's provider opens it.

A connection is awaited at most ``DB_ACQUIRE_TIMEOUT_SECONDS`` (the API pool's ``acquire``
timeout here, see ``api/driver_pool.py``; the engine's ``pool_timeout`` for sessions): past it
the request is a 503, never a hang.
A handler that must not hold a connection while it waits on its client (an upload) takes
``open_sql`` instead, and opens a connection only once the body is in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Litestar, Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.audit import trail_of
from api.driver_pool import DriverPool
from domain.audit.events import AuditTrail
from domain.config import Settings
from domain.jobs.service import JobService
from domain.services.analytics import AnalyticsService
from domain.services.appointments import AppointmentService
from domain.services.directory import clinician_directory, department_directory
from domain.services.fhir import FhirService
from domain.services.patients import PatientService
from domain.services.reminder_queries import ReminderService
from domain.services.schedules import ScheduleService
from domain.services.slots import SlotService
from domain.services.unavailability import UnavailabilityService
from domain.sql import AsyncpgRunner, SessionRunner, SqlRunner

S = TypeVar("S")


def driver_pool_lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    """Open the API's connection pool with the app and close it with the app (PostgreSQL only)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        # Opening one connection is bounded like waiting for one: past it, a 503.
        pool = DriverPool(
            partial(asyncpg.connect, dsn, timeout=settings.db_acquire_timeout_seconds),
            max_size=settings.db_pool_size * 2,
            reset_timeout=settings.db_acquire_timeout_seconds,
        )
        app.state.driver_pool = pool
        try:
            yield
        finally:
            await pool.close()

    return lifespan


class RequestSql(Protocol):
    """Opens the request's SQL runner for as long as the dependency holding it lives."""

    def __call__(self, request: Request[Any, Any, Any]) -> AbstractAsyncContextManager[SqlRunner]: ...


class _PooledConnection:
    """The request's asyncpg connection from the API's pool (PostgreSQL); use cases open their
    own transactions. A class, not a generator-based context manager: it runs per request."""

    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: DriverPool, timeout: float) -> None:
        self._pool, self._timeout = pool, timeout

    async def __aenter__(self) -> SqlRunner:
        self._connection = await self._pool.acquire(self._timeout)
        return AsyncpgRunner(self._connection)

    async def __aexit__(self, _type: object, failed: BaseException | None, _traceback: object) -> None:
        await self._pool.release(self._connection, failed)


class _RequestSession:
    """The request's SQLAlchemy session (SQLite): advanced-alchemy's autocommit handler commits
    it when the response starts (or rolls it back on an error status) and closes it."""

    __slots__ = ("_config", "_request")

    def __init__(self, config: SQLAlchemyAsyncConfig, request: Request[Any, Any, Any]) -> None:
        self._config, self._request = config, request

    async def __aenter__(self) -> SqlRunner:
        return SessionRunner(self._config.provide_session(self._request.app.state, self._request.scope))

    async def __aexit__(self, *_exc: object) -> None:
        return None


def request_sql(settings: Settings, db_config: SQLAlchemyAsyncConfig) -> RequestSql:
    """How a request's runner is opened on the configured database (``app.state.request_sql``).

    A connection is awaited at most ``DB_ACQUIRE_TIMEOUT_SECONDS``: past it, a 503.
    """
    if settings.is_sqlite:
        return lambda request: _RequestSession(db_config, request)
    timeout = settings.db_acquire_timeout_seconds
    return lambda request: _PooledConnection(request.app.state.driver_pool, timeout)


def on_request_sql(build: Callable[[SqlRunner, Request[Any, Any, Any]], Any], doc: str) -> Provide:
    """Provide ``build(sql, request)``: a service on the request's own runner.

    One provider per service, taking the request alone, is what this costs least: each further
    dependency level cost 6 µs a request, and a dependency asking for ``state`` 11 µs (Litestar
    copies the app's state for it). A handler therefore takes one SQL service, never two.
    """

    async def provide(request: Request[Any, Any, Any]) -> AsyncIterator[Any]:
        async with request.app.state.request_sql(request) as sql:
            yield build(sql, request)

    provide.__doc__ = doc
    provide.opens_request_sql = True  # type: ignore[attr-defined]  # read by a test: one per handler
    return Provide(provide)


def opens_request_sql(provider: Provide) -> bool:
    """Whether ``provider`` opens the request's runner (a pooled connection on PostgreSQL)."""
    return bool(getattr(provider.dependency, "opens_request_sql", False))


SqlOpener = Callable[[], AbstractAsyncContextManager[SqlRunner]]


async def provide_opener(request: Request[Any, Any, Any]) -> SqlOpener:
    """``open_sql``: a connection of the API's own, opened when the handler asks and committed when
    the block ends, before the handler goes on (``app.state.open_sql``, see :func:`app_sql_opener`)."""
    return partial(request.app.state.open_sql, transaction=True)


def _audit_trail(request: Request[Any, Any, Any]) -> AuditTrail | None:
    return trail_of(request.scope)


class OpenService(Generic[S]):
    """``async with open_patients(request) as patients:`` the service ``build`` makes on the
    request's own runner, for the block: what an :func:`on_request_sql` provider yields, opened
    by the handler itself.

    For the patient and appointment routes, the hot paths measured against the bare ceiling:
    Litestar's dependency resolution (batches, a cleanup group, an exit stack) cost each of
    those requests about 40,000 instructions, 5–7 % of it. The handler opens the runner once its
    query is parsed, so a refused request holds no connection; an exception leaving the block
    reaches the runner as it would through a provider.
    """

    __slots__ = ("_build", "_request", "_runner")

    def __init__(self, build: Callable[[SqlRunner, Request[Any, Any, Any]], S], request: Request[Any, Any, Any]):
        self._build, self._request = build, request

    async def __aenter__(self) -> S:
        self._runner = self._request.app.state.request_sql(self._request)
        sql = await self._runner.__aenter__()
        try:
            return self._build(sql, self._request)
        except BaseException as exc:  # the runner is open: give it back before the error goes on
            await self._runner.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._runner.__aexit__(*exc_info)


def _patients(sql: SqlRunner, request: Request[Any, Any, Any]) -> PatientService:
    return PatientService(sql=sql, audit=_audit_trail(request))


def _appointments(sql: SqlRunner, request: Request[Any, Any, Any]) -> AppointmentService:
    return AppointmentService(
        sql=sql,
        reminders=request.app.state.reminder_policy,
        audit=_audit_trail(request),
        timetables=request.app.state.timetable_copies,
    )


def open_patients(request: Request[Any, Any, Any]) -> OpenService[PatientService]:
    """Patient use cases on the request's runner (see :class:`OpenService`)."""
    return OpenService(_patients, request)


def open_appointments(request: Request[Any, Any, Any]) -> OpenService[AppointmentService]:
    """Appointment use cases on the request's runner, with the configured reminders
    (``app.state.reminder_policy``) and the process's timetable copies (``app.state.timetable_copies``,
    PostgreSQL); see :class:`OpenService`."""
    return OpenService(_appointments, request)


provide_sql = on_request_sql(lambda sql, _request: sql, "The request's SQL runner.")
provide_clinicians = on_request_sql(lambda sql, _request: clinician_directory(sql), "The clinician directory.")
provide_departments = on_request_sql(lambda sql, _request: department_directory(sql), "The department directory.")
provide_analytics = on_request_sql(lambda sql, _request: AnalyticsService(sql), "Missed-appointment analytics.")
provide_fhir = on_request_sql(lambda sql, request: FhirService(sql, _audit_trail(request)), "FHIR views.")
provide_jobs = on_request_sql(lambda sql, _request: JobService(sql), "Job use cases.")
provide_schedules = on_request_sql(lambda sql, _request: ScheduleService(sql), "Schedule use cases.")
provide_unavailability = on_request_sql(lambda sql, _request: UnavailabilityService(sql), "Unavailability use cases.")
provide_slots = on_request_sql(
    lambda sql, request: SlotService(sql, request.app.state.slot_hold_seconds),
    "Slot search and holds, holding for ``SLOT_HOLD_SECONDS`` (``app.state.slot_hold_seconds``).",
)


async def provide_reminders(db_session: NamedDependency[AsyncSession]) -> ReminderService:
    """Reminder and outbox reads on this request's session."""
    return ReminderService(session=db_session)


class AppSqlOpener(Protocol):
    """Opens a connection of the API's own; ``wait`` bounds the wait for a pooled one (PostgreSQL),
    ``DB_ACQUIRE_TIMEOUT_SECONDS`` when not given; ``transaction``: its statements commit together
    when the block ends (a SQLite session always does)."""

    def __call__(
        self, wait: float | None = None, *, transaction: bool = False
    ) -> AbstractAsyncContextManager[SqlRunner]: ...


def app_sql_opener(built: dict[str, Litestar], settings: Settings, engine: AsyncEngine) -> AppSqlOpener:
    """A connection outside any request's: the key ring's reloads, the audit events the API writes
    itself, and a job upload's row once its body is in (``app.state.open_sql``)."""

    @asynccontextmanager
    async def open_sql(wait: float | None = None, *, transaction: bool = False) -> AsyncIterator[SqlRunner]:
        if settings.is_sqlite:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                yield SessionRunner(session)
            return
        pool = built["app"].state.driver_pool  # opened by driver_pool_lifespan once the app has started
        timeout = settings.db_acquire_timeout_seconds if wait is None else wait
        async with pool.connection(timeout) as connection, connection.transaction() if transaction else nullcontext():
            yield AsyncpgRunner(connection)

    return open_sql
