"""AppointmentService on both databases: instants survive storage, rules hold below the API."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, update

from domain.errors import Conflict, InvalidInput, NotFound
from domain.inputs import AppointmentUpdate, parse_input
from domain.models import Appointment
from domain.rules import Status
from domain.services.appointment_queries import AppointmentFilter
from domain.services.directory import clinician_directory
from domain.sql import SessionRunner
from tests.factories import appointment_body, nhs_number, now, patient_body

PATIENT = nhs_number(0)
BST = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture
async def patient(use_cases) -> str:
    await use_cases.register(patient_body(PATIENT))
    return PATIENT


async def test_an_offset_time_is_stored_as_the_same_instant(use_cases, patient) -> None:
    """FACTS: SQLite through SQLAlchemy would drop a +01:00 offset and read back an hour off."""
    local = dt.datetime(2025, 6, 4, 16, 30, tzinfo=BST)
    booked = await use_cases.book(appointment_body(patient, local, time="2025-06-04T16:30:00+01:00", status="attended"))
    assert booked.time == "2025-06-04T15:30:00+00:00"
    async with use_cases.session() as session:
        starts_at, ends_at, created_at = (
            await session.execute(
                select(Appointment.starts_at, Appointment.ends_at, Appointment.created_at).where(
                    Appointment.id == uuid.UUID(booked.id)
                )
            )
        ).one()
        orm = await session.get(Appointment, uuid.UUID(booked.id))
    for value in (starts_at, ends_at, created_at, orm.starts_at, orm.updated_at):
        assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0), value
    assert starts_at == local
    assert ends_at == local + dt.timedelta(minutes=30)
    async with use_cases.appointments() as service:
        assert (await service.read(booked.id)).time == "2025-06-04T15:30:00+00:00"


async def test_range_filters_compare_instants_whatever_the_offset(use_cases, patient) -> None:
    base = dt.datetime(2025, 6, 4, 9, 0, tzinfo=dt.UTC)
    ids = []
    for hours in range(4):
        start = (base + dt.timedelta(hours=hours)).astimezone(BST if hours % 2 else dt.UTC)
        ids.append((await use_cases.book(appointment_body(patient, start, status="attended"))).id)
    window = AppointmentFilter(
        start_from=base.astimezone(BST) + dt.timedelta(hours=1), start_to=base + dt.timedelta(hours=3)
    )
    async with use_cases.appointments() as service:
        page = await service.search(window, limit=50, offset=0)
    assert [a.id for a in page.items] == ids[1:3]
    assert page.total == 2


async def test_book_rejects_what_the_rules_forbid(use_cases, patient) -> None:
    start = now() + dt.timedelta(days=1)
    first = await use_cases.book(appointment_body(patient, start))
    with pytest.raises(Conflict) as clash:
        await use_cases.book(appointment_body(patient, start + dt.timedelta(minutes=15), clinician="Dr Other"))
    assert clash.value.code == "appointment.patient_overlap"
    with pytest.raises(Conflict) as clash:
        await use_cases.book(appointment_body(patient, start + dt.timedelta(days=5), id=first.id))
    assert clash.value.code == "appointment.duplicate_id"
    with pytest.raises(InvalidInput) as unknown:
        await use_cases.book(appointment_body(nhs_number(1), start + dt.timedelta(days=1)))
    assert [e.field for e in unknown.value.errors] == ["patient"]
    with pytest.raises(Conflict):
        await use_cases.book(appointment_body(patient, start, status="attended"))
    async with use_cases.appointments() as service:
        assert (await service.search(AppointmentFilter(), 50, 0)).total == 1


async def test_a_refused_booking_rolls_back_whole(use_cases, patient) -> None:
    """The clinician a refused booking named is not left behind."""
    start = now() + dt.timedelta(days=1)
    await use_cases.book(appointment_body(patient, start, clinician="Dr One"))
    with pytest.raises(Conflict):
        await use_cases.book(appointment_body(patient, start, clinician="Dr Never Stored"))
    async with use_cases.session() as session:
        names = [c.name for c in (await clinician_directory(SessionRunner(session)).list_with_counts(50, 0)).items]
    assert names == ["Dr One"]


async def test_amend_and_remove(use_cases, patient) -> None:
    start = now() + dt.timedelta(days=1)
    booked = await use_cases.book(appointment_body(patient, start))
    async with use_cases.appointments() as service:
        changes = {"time": (start + dt.timedelta(hours=2)).isoformat(), "duration": "90m"}
        moved = await service.amend(booked.id, parse_input(AppointmentUpdate, changes))
    assert (moved.duration, moved.status) == ("1h30m", "active")
    async with use_cases.appointments() as service:
        cancelled = await service.amend(booked.id, parse_input(AppointmentUpdate, {"status": "cancelled"}))
    assert cancelled.status == "cancelled"
    with pytest.raises(Conflict):
        async with use_cases.appointments() as service:
            await service.amend(booked.id, parse_input(AppointmentUpdate, {"status": "active"}))
    async with use_cases.appointments() as service:
        await service.remove(booked.id)
    for raw in (booked.id, "not-a-uuid"):
        with pytest.raises(NotFound):
            async with use_cases.appointments() as service:
                await service.read(raw)


async def test_effective_status_is_derived_at_read_time(use_cases, patient) -> None:
    booked = await use_cases.book(appointment_body(patient, now() + dt.timedelta(days=1)))
    past = now() - dt.timedelta(hours=2)
    async with use_cases.session() as session:
        await session.execute(
            update(Appointment)
            .where(Appointment.id == uuid.UUID(booked.id))
            .values(starts_at=past, ends_at=past + dt.timedelta(minutes=30))
        )
    async with use_cases.appointments() as service:
        assert (await service.read(booked.id)).status == "missed"
        missed = await service.search(AppointmentFilter(status=Status.MISSED), 50, 0)
        active = await service.search(AppointmentFilter(status=Status.ACTIVE), 50, 0)
    assert [a.id for a in missed.items] == [booked.id]
    assert active.total == 0
