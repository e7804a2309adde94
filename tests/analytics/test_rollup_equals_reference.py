"""The rollup's answers equal the reference query's, on random histories, on both databases.

Each example writes a random history through the statements PANDA's write paths use (booking,
status changes, the sweep with the clock moved, deletion, erasure, rescheduling, a multi-row
import, a raw write putting a settled row back to ``active``), with times around the UK clock
changes, then compares ``AnalyticsService`` (rollup) with the reference statements over
``appointment`` for random group_by × period × from/to/department and "now", and the stored
rollup with a fresh :func:`rebuild_rollup`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.config import Settings
from domain.db import make_engine
from domain.models import (
    Appointment,
    AppointmentDayTotal,
    AppointmentMonthTotal,
    AppointmentWeekTotal,
    Clinician,
    Department,
    Patient,
    table,
)
from domain.rules import Status, entity_key
from domain.rules.booking import BookingPlan
from domain.rules.periods import GroupBy, Period, london_midnight
from domain.services import analytics
from domain.services.analytics import AnalyticsService, MissedQuery, items_from_rows, top_items
from domain.services.analytics_reference import reference_missed_statement, reference_top_statement
from domain.services.booking import appointment_row
from domain.services.rollup import rebuild_rollup
from domain.services.sweep import store_missed
from domain.sql import SessionRunner
from tests.factories import nhs_number

APPOINTMENT = table(Appointment)
ROLLUP = table(AppointmentDayTotal)
MONTHS = table(AppointmentMonthTotal)
UTC = dt.UTC
DEPARTMENTS = ("Cardiology", "Oncology", "Renal")
CLINICIANS = ("Dr Ada", "Dr Bea", "Dr Cy")
PATIENTS = 3
# Midnights and clock changes, as UTC midnights: the Sundays the clocks change (01:00 UTC both
# ways), the start of April 2025 (23:00 UTC on 31 March), the Monday 30 June 2025 (its London week
# starts at 23:00 UTC on Sunday) and New Year.
ANCHORS = (
    dt.datetime(2025, 3, 30, tzinfo=UTC),
    dt.datetime(2025, 10, 26, tzinfo=UTC),
    dt.datetime(2024, 3, 31, tzinfo=UTC),
    dt.datetime(2024, 10, 27, tzinfo=UTC),
    dt.datetime(2025, 4, 1, tzinfo=UTC),
    dt.datetime(2025, 6, 30, tzinfo=UTC),
    dt.datetime(2026, 1, 1, tzinfo=UTC),
)
# Every instant of one example lies within two days of the same anchor, so bookings, range bounds
# and "now" meet in the same London days, including the partial ones at the edges; half of them
# fall within 90 minutes of a UTC midnight, where London days, weeks and months turn.
instants = st.builds(
    lambda anchor, days, minutes: anchor + dt.timedelta(days=days, minutes=minutes),
    st.shared(st.sampled_from(ANCHORS), key="anchor"),
    st.integers(-1, 1),
    st.one_of(st.integers(-90, 90), st.integers(-720, 720)).map(lambda m: m - m % 15),
)
statuses = st.sampled_from([s.value for s in Status])


@dataclass(frozen=True)
class Booking:
    status: str
    start: dt.datetime
    minutes: int
    clinician: int
    department: int
    patient: int


bookings = st.builds(
    Booking,
    statuses,
    instants,
    st.sampled_from([15, 30, 60, 90, 720]),
    st.integers(1, len(CLINICIANS)),
    st.integers(1, len(DEPARTMENTS)),
    st.integers(1, PATIENTS),
)
row_index = st.integers(0, 40)
operations = st.one_of(
    st.tuples(st.just("book"), bookings),
    st.tuples(st.just("import"), st.lists(bookings, min_size=1, max_size=5)),
    st.tuples(st.just("status"), row_index, statuses),
    st.tuples(st.just("reschedule"), row_index, bookings),
    st.tuples(st.just("delete"), row_index),
    st.tuples(st.just("erase"), st.integers(1, PATIENTS), instants),
    st.tuples(st.just("sweep"), instants),
)
bounds = st.one_of(st.none(), instants, instants.map(lambda t: london_midnight(t.date())))
queries = st.builds(
    MissedQuery,
    st.sampled_from(list(GroupBy)),
    st.sampled_from(list(Period)),
    bounds,
    bounds,
    st.one_of(st.none(), st.sampled_from([*DEPARTMENTS, "oncology", "Nowhere"])),
)


async def _reset(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text("TRUNCATE appointment, patient, clinician, department RESTART IDENTITY CASCADE")
            )
        else:
            levels = ("appointment_day_total", "appointment_week_total", "appointment_month_total")
            for name in ("appointment", *levels, "patient", "clinician", "department"):
                await connection.execute(text(f"DELETE FROM {name}"))
        for model, names in ((Department, DEPARTMENTS), (Clinician, CLINICIANS)):
            rows = [{"id": i + 1, "name": n, "name_key": entity_key(n)} for i, n in enumerate(names)]
            await connection.execute(insert(table(model)), rows)
        now = dt.datetime(2025, 1, 1, tzinfo=UTC)
        patients = [
            {"id": i, "nhs_number": nhs_number(900 + i), "name": "P", "name_search": "p",
             "date_of_birth": dt.date(1970, 1, 1), "postcode": "N6 2FA", "created_at": now, "updated_at": now}
            for i in range(1, PATIENTS + 1)
        ]  # fmt: skip
        await connection.execute(insert(table(Patient)), patients)


def _row(booking: Booking) -> dict[str, Any]:
    plan = BookingPlan(
        status=Status(booking.status),
        start=booking.start,
        end=booking.start + dt.timedelta(minutes=booking.minutes),
        duration_minutes=booking.minutes,
        reminders_due=[],
    )
    return appointment_row(
        uuid.uuid4(), patient_id=booking.patient, clinician_id=booking.clinician,
        department_id=booking.department, plan=plan, postcode="N6 2FA", now=booking.start,
    )  # fmt: skip


async def _apply(engine: AsyncEngine, operation: tuple[Any, ...], ids: list[uuid.UUID]) -> None:
    """One write in its own transaction; one the database refuses (an overlap) changes nothing."""
    kind, *args = operation
    target = ids[args[0] % len(ids)] if ids and kind in ("status", "reschedule", "delete") else None
    if kind == "sweep":
        with mock.patch("domain.services.sweep.utcnow", return_value=args[0]):
            async with AsyncSession(engine) as session, session.begin():
                await store_missed(session)
        return
    try:
        async with engine.begin() as connection:
            if kind in ("book", "import"):
                rows = [_row(b) for b in (args[0] if kind == "import" else [args[0]])]
                await connection.execute(insert(APPOINTMENT).values(rows))  # one statement, as the import's
                ids += [r["id"] for r in rows]
            elif kind == "status" and target:
                await connection.execute(update(APPOINTMENT).where(APPOINTMENT.c.id == target).values(status=args[1]))
            elif kind == "reschedule" and target:
                row = _row(args[1])
                changes = {
                    k: row[k] for k in ("starts_at", "ends_at", "duration_minutes", "clinician_id", "department_id")
                }
                await connection.execute(update(APPOINTMENT).where(APPOINTMENT.c.id == target).values(**changes))
            elif kind == "delete" and target:
                await connection.execute(delete(APPOINTMENT).where(APPOINTMENT.c.id == target))
            elif kind == "erase":  # as PatientService.erase: cancel what has not ended, de-identify, delete
                patient, now = args
                theirs = APPOINTMENT.c.patient_id == patient
                not_ended = (APPOINTMENT.c.status == "active") & (APPOINTMENT.c.ends_at > now)
                await connection.execute(update(APPOINTMENT).where(theirs, not_ended).values(status="cancelled"))
                await connection.execute(update(APPOINTMENT).where(theirs).values(patient_id=None))
                await connection.execute(delete(table(Patient)).where(table(Patient).c.id == patient))
    except IntegrityError:
        pass


async def _check(engine: AsyncEngine, checks: list[tuple[MissedQuery, dt.datetime]]) -> None:
    async with AsyncSession(engine) as session:
        runner = SessionRunner(session)
        service = AnalyticsService(runner)
        for query, now in checks:
            with mock.patch.object(analytics, "utcnow", return_value=now):
                report = await service.missed(query, capped=False)
                top = await service.top(query, 5)
                overview = await service.overview(query, 5)
            async with runner.transaction():
                expected = items_from_rows(
                    await runner.fetch_all(reference_missed_statement(query, runner.dialect, now))
                )
            expected_top = top_items(await runner.fetch_all(reference_top_statement(query, now, 5)))
            monthly = MissedQuery(GroupBy.DEPARTMENT, Period.MONTH, query.start_from, query.start_to, query.department)
            async with runner.transaction():
                expected_monthly = items_from_rows(
                    await runner.fetch_all(reference_missed_statement(monthly, runner.dialect, now))
                )
            by_clinician = MissedQuery(
                GroupBy.CLINICIAN, query.period, query.start_from, query.start_to, query.department
            )
            expected_clinicians = top_items(await runner.fetch_all(reference_top_statement(by_clinician, now, 5)))
            assert report.items == expected, (query, now)
            assert top == expected_top, (query, now)
            assert overview.monthly_by_department == expected_monthly
            assert overview.top_clinicians == expected_clinicians
            await session.rollback()


async def _stored_rollup_equals_rebuild(engine: AsyncEngine) -> None:
    """Both levels as the triggers left them equal a fresh rebuild (zero rows aside)."""
    levels = (ROLLUP, table(AppointmentWeekTotal), MONTHS)
    async with engine.connect() as connection:
        stored = [
            (await connection.execute(select(t).where(t.c.appointments != 0).order_by(*t.primary_key.columns))).all()
            for t in levels
        ]
        await rebuild_rollup(connection)
        rebuilt = [(await connection.execute(select(t).order_by(*t.primary_key.columns))).all() for t in levels]
        await connection.rollback()
    assert [[tuple(r) for r in rows] for rows in stored] == [[tuple(r) for r in rows] for rows in rebuilt]
    assert all(r.appointments >= 0 and r.missed >= 0 for rows in stored for r in rows)


async def _example(
    settings: Settings, history: list[tuple[Any, ...]], checks: list[tuple[MissedQuery, dt.datetime]]
) -> None:
    engine = make_engine(settings)
    try:
        await _reset(engine)
        ids: list[uuid.UUID] = []
        for operation in history:
            await _apply(engine, operation, ids)
        await _check(engine, checks)
        await _stored_rollup_equals_rebuild(engine)
    finally:
        await engine.dispose()


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=st.lists(operations, min_size=1, max_size=14),
    checks=st.lists(st.tuples(queries, instants), min_size=1, max_size=3),
)
def test_the_rollup_answers_as_the_reference_query(
    settings: Settings, history: list[tuple[Any, ...]], checks: list[tuple[MissedQuery, dt.datetime]]
) -> None:
    asyncio.run(_example(settings, history, checks))


# Settled appointments where London days, weeks and months turn away from UTC's: Sunday 23:30 UTC
# in summer (Monday in London), 23:30 UTC on the last day of a summer month, both sides of the
# spring and autumn changes.
TURNING_POINTS = (
    dt.datetime(2025, 6, 29, 23, 30, tzinfo=UTC),
    dt.datetime(2025, 6, 30, 23, 30, tzinfo=UTC),
    dt.datetime(2025, 3, 30, 0, 30, tzinfo=UTC),
    dt.datetime(2025, 3, 30, 23, 30, tzinfo=UTC),
    dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
    dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
)


def test_the_rollup_answers_as_the_reference_query_where_periods_turn(settings: Settings) -> None:
    history: list[tuple[Any, ...]] = [
        ("book", Booking(status, start, 30, 1 + i % 3, 1 + i % 2, 1 + i % 3))
        for i, start in enumerate(TURNING_POINTS)
        for status in ("attended", "missed")
    ]
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    bounds = (None, dt.datetime(2025, 6, 30, 12, tzinfo=UTC), dt.datetime(2025, 7, 1, tzinfo=UTC))
    checks = [
        (MissedQuery(group_by, period, start, None), now)
        for group_by in GroupBy
        for period in Period
        for start in bounds
    ]
    asyncio.run(_example(settings, history, checks))
