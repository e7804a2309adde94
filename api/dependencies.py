"""Dependency providers: a SQL runner per request, and the services on top of it.

On PostgreSQL the runner is a raw asyncpg connection from the API's pool (the hot paths'
benchmark showed the ORM session costing most of the throughput); on SQLite it is the
request's SQLAlchemy session, committed by advanced-alchemy's autocommit handler.

A connection is awaited at most ``DB_ACQUIRE_TIMEOUT_SECONDS`` (asyncpg's ``acquire`` timeout
here, the engine's ``pool_timeout`` for sessions): past it the request is a 503, never a hang.
A handler that must not hold a connection while it waits on its client (an upload) takes
``open_sql`` instead, and opens a connection only once the body is in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar, Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.audit import trail_of
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


def driver_pool_lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    """Open the asyncpg pool with the app and close it with the app (PostgreSQL only)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=settings.db_pool_size * 2,
            reset=_rollback_if_in_transaction,
            timeout=settings.db_acquire_timeout_seconds,
        )
        app.state.driver_pool = pool
        try:
            yield
        finally:
            await pool.close()

    return lifespan


async def _rollback_if_in_transaction(connection: asyncpg.Connection) -> None:
    """Released connections carry no session state (no LISTEN, SET or locks are used), so the
    default reset query — a round trip per request — is skipped; an interrupted transaction is
    still rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def provide_session_runner(db_session: NamedDependency[AsyncSession]) -> SqlRunner:
    """The request's SQLAlchemy session (SQLite): one transaction, committed on success."""
    return SessionRunner(db_session)


def sql_provider(settings: Settings) -> Provide:
    """The runner provider that suits the configured database.

    The hot paths' providers depend on this one and on the request alone: each further
    dependency costs a signature check per request, and two at one level a task group.
    """
    if settings.is_sqlite:
        return Provide(provide_session_runner)
    timeout = settings.db_acquire_timeout_seconds

    # ``request``, not ``state``: Litestar builds a new ``State`` from the app's for every
    # dependency that asks for one, which cost 11 µs a request (``request`` costs 4).
    async def provide_driver_runner(request: Request[Any, Any, Any]) -> AsyncIterator[SqlRunner]:
        """A pooled asyncpg connection for this request; use cases open their own transactions."""
        pool = request.app.state.driver_pool
        # An idle live connection is handed out at once (the pool's queue prefers live ones), so
        # the deadline, whose timer costs every request, is armed only when one must be waited for.
        async with pool.acquire(timeout=None if pool.get_idle_size() else timeout) as connection:
            yield AsyncpgRunner(connection)

    return Provide(provide_driver_runner)


SqlOpener = Callable[[], AbstractAsyncContextManager[SqlRunner]]


async def provide_driver_opener(request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> SqlOpener:
    """Opens a pooled asyncpg connection on demand, in a transaction committed when the block ends."""
    state = request.app.state

    @asynccontextmanager
    async def open_sql() -> AsyncIterator[SqlRunner]:
        pool = state.driver_pool
        async with pool.acquire(timeout=settings.db_acquire_timeout_seconds) as connection, connection.transaction():
            yield AsyncpgRunner(connection)

    return open_sql


async def provide_session_opener(db_engine: NamedDependency[AsyncEngine]) -> SqlOpener:
    """Opens a session of its own on demand (not the request's), committed when the block ends."""

    @asynccontextmanager
    async def open_sql() -> AsyncIterator[SqlRunner]:
        async with AsyncSession(db_engine, expire_on_commit=False) as session, session.begin():
            yield SessionRunner(session)

    return open_sql


def opener_provider(settings: Settings) -> Provide:
    """``open_sql``: a connection opened when the handler asks, committed before the handler goes on."""
    return Provide(provide_session_opener if settings.is_sqlite else provide_driver_opener)


def on_request_sql(factory: Callable[[Any], Any], doc: str) -> Provide:
    """Provide ``factory(sql)``: a service on this request's connection (see ``sql_provider``)."""

    # ``Any``: Litestar checks a dependency's value with isinstance, which a plain Protocol refuses.
    async def provide(sql: NamedDependency[Any]) -> Any:
        return factory(sql)

    provide.__doc__ = doc
    return Provide(provide)


def audited_on_request_sql(factory: Callable[[Any, Any], Any], doc: str) -> Provide:
    """Provide ``factory(sql, audit)``: a service on this request's connection, recording its audit event."""

    async def provide(sql: NamedDependency[Any], request: Request[Any, Any, Any]) -> Any:
        return factory(sql, trail_of(request.scope))

    provide.__doc__ = doc
    return Provide(provide)


provide_patients = audited_on_request_sql(lambda sql, audit: PatientService(sql=sql, audit=audit), "Patient use cases.")
provide_clinicians = on_request_sql(clinician_directory, "The clinician directory.")
provide_departments = on_request_sql(department_directory, "The department directory.")
provide_analytics = on_request_sql(AnalyticsService, "Missed-appointment analytics.")
provide_fhir = audited_on_request_sql(FhirService, "FHIR views.")
provide_jobs = on_request_sql(JobService, "Job use cases.")
provide_schedules = on_request_sql(ScheduleService, "Schedule use cases.")
provide_unavailability = on_request_sql(UnavailabilityService, "Unavailability use cases.")


async def _slots(sql: NamedDependency[Any], settings: NamedDependency[Settings]) -> SlotService:
    """Slot search and holds on this request's connection, holding for ``SLOT_HOLD_SECONDS``."""
    return SlotService(sql, settings.slot_hold_seconds)


provide_slots = Provide(_slots)


async def _appointments(sql: NamedDependency[Any], request: Request[Any, Any, Any]) -> AppointmentService:
    """Appointment use cases on this request's connection, with the configured reminders
    (``app.state.reminder_policy``, set by ``create_app``)."""
    policy = request.app.state.reminder_policy
    return AppointmentService(sql=sql, reminders=policy, audit=trail_of(request.scope))


provide_appointments = Provide(_appointments)


async def provide_reminders(db_session: NamedDependency[AsyncSession]) -> ReminderService:
    """Reminder and outbox reads on this request's session."""
    return ReminderService(session=db_session)


def app_sql_opener(built: dict[str, Litestar], settings: Settings, engine: AsyncEngine) -> SqlOpener:
    """A connection outside any request's (the key ring's reloads, the audit events the API writes itself)."""

    @asynccontextmanager
    async def open_sql() -> AsyncIterator[SqlRunner]:
        if settings.is_sqlite:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                yield SessionRunner(session)
            return
        pool = built["app"].state.driver_pool  # opened by driver_pool_lifespan once the app has started
        async with pool.acquire(timeout=settings.db_acquire_timeout_seconds) as connection:
            yield AsyncpgRunner(connection)

    return open_sql
