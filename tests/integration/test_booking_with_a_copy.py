"""Bookings in one statement against a copy of the clinician's timetable (PostgreSQL, SPEC §10, §12).

The copy may be out of date; a booking is stored that way only if the copy's version is still
the clinician's latest once the statement holds the timetable locks. Each test changes the
timetable behind the copy's back and checks that the booking obeys the latest timetable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from domain.errors import Conflict
from domain.inputs import AppointmentCreate, HoldCreate, parse_input
from domain.rules.reminders import ReminderPolicy
from domain.services.appointments import AppointmentService
from domain.services.overlap import timetable_keys
from domain.services.slots import SlotService
from domain.services.timetable_cache import TimetableCache
from domain.sql import AsyncpgRunner
from tests.conftest import _plain_dsn
from tests.factories import appointment_body, nhs_number, now, patient_body

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])
PATIENT = nhs_number(0)


class CountingRunner(AsyncpgRunner):
    """An asyncpg runner that counts the statements it sends."""

    statements = 0

    async def fetch_one(self, query: Any, **params: Any) -> Any:
        self.statements += 1
        return await super().fetch_one(query, **params)

    async def fetch_all(self, query: Any, **params: Any) -> Any:
        self.statements += 1
        return await super().fetch_all(query, **params)

    async def execute(self, query: Any, **params: Any) -> None:
        self.statements += 1
        await super().execute(query, **params)


@pytest.fixture
async def db(engine: Any, postgres_url: str, use_cases: Any) -> AsyncIterator[asyncpg.Connection]:
    """A second connection (the other writer), after the patient is registered in the emptied database."""
    await use_cases.register(patient_body(PATIENT))
    connection = await asyncpg.connect(_plain_dsn(postgres_url))
    yield connection
    await connection.close()


@pytest.fixture
async def booking(postgres_url: str) -> AsyncIterator[tuple[CountingRunner, TimetableCache]]:
    """A runner on a connection of its own and an empty set of copies, as the API keeps them."""
    connection = await asyncpg.connect(_plain_dsn(postgres_url))
    yield CountingRunner(connection), TimetableCache()
    await connection.close()


async def _book(booking: tuple[CountingRunner, TimetableCache], start: dt.datetime, **overrides: Any) -> Any:
    runner, copies = booking
    service = AppointmentService(sql=runner, reminders=ReminderPolicy(), timetables=copies)
    return await service.book(parse_input(AppointmentCreate, appointment_body(PATIENT, start, **overrides)))


async def _clinician(db: asyncpg.Connection, name: str = "dr jones") -> tuple[int, int]:
    row = await db.fetchrow("SELECT id, timetable_version FROM clinician WHERE name_key = $1", name)
    return row["id"], row["timetable_version"]


async def _hold(db: asyncpg.Connection, clinician_id: int, start: dt.datetime) -> uuid.UUID:
    hold_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO slot_hold (id, clinician_id, starts_at, ends_at, expires_at, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, now(), now())",
        hold_id, clinician_id, start, start + dt.timedelta(minutes=30), now() + dt.timedelta(minutes=10),
    )  # fmt: skip
    return hold_id


async def test_each_change_that_could_refuse_a_booking_gives_a_new_version(db, booking) -> None:
    start = now() + dt.timedelta(days=2)
    await _book(booking, start)
    await _book(booking, start + dt.timedelta(hours=1), clinician="Dr Other")
    jones, first = await _clinician(db)
    other, other_version = await _clinician(db, "dr other")
    assert first == 0  # no session, unavailability or hold yet
    seen = [first]

    async def changed(statement: str, *args: Any, renews: bool = True) -> None:
        await db.execute(statement, *args)
        version = (await _clinician(db))[1]
        if renews:
            assert version not in seen, statement
            seen.append(version)
        else:  # it only frees time: a copy that still has the row refuses more, never less
            assert version == seen[-1], statement

    hold = uuid.uuid4()
    insert_hold = (
        "INSERT INTO slot_hold (id, clinician_id, starts_at, ends_at, expires_at, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $4, now(), now())"
    )
    await changed(insert_hold, hold, jones, start, start + dt.timedelta(hours=3))
    await changed("UPDATE slot_hold SET expires_at = expires_at + interval '1 minute' WHERE id = $1", hold)
    await changed("DELETE FROM slot_hold WHERE id = $1", hold, renews=False)
    await changed(
        "INSERT INTO unavailability (id, clinician_id, starts_at, ends_at, created_at, updated_at)"
        " VALUES (gen_random_uuid(), $1, $2, $3, now(), now())", jones, start, start + dt.timedelta(hours=3),
    )  # fmt: skip
    await changed("UPDATE unavailability SET reason = 'leave'")
    await changed("TRUNCATE unavailability", renews=False)
    department = await db.fetchval("SELECT id FROM department LIMIT 1")
    insert_session = (
        "INSERT INTO schedule (id, clinician_id, department_id, postcode, weekdays, start_minute, end_minute,"
        " slot_minutes, valid_from, created_at, updated_at)"
        " VALUES (gen_random_uuid(), $1, $2, 'N6 2FA', $3, 540, 1020, 30, '2020-01-01', now(), now())"
    )
    await changed(insert_session, jones, department, 1)
    await changed(insert_session, jones, department, 2)
    await changed("DELETE FROM schedule WHERE weekdays = 2")  # fewer sessions: less bookable time
    await changed("TRUNCATE schedule")
    # Even with triggers off for replication (the triggers fire ALWAYS).
    await changed("SET session_replication_role = replica", renews=False)
    await changed(insert_hold, hold, jones, start, start + dt.timedelta(hours=3))
    await changed("RESET session_replication_role", renews=False)
    # A hold moved to another clinician changes both timetables.
    assert (await _clinician(db, "dr other"))[1] == other_version
    await changed("UPDATE slot_hold SET clinician_id = $1", other)
    assert (await _clinician(db, "dr other"))[1] not in (other_version, 0)


async def test_an_up_to_date_copy_books_in_one_statement(db, booking) -> None:
    start = now() + dt.timedelta(days=2)
    runner, copies = booking
    await _book(booking, start)  # creates the clinician: the long way
    runner.statements = 0
    second = await _book(booking, start + dt.timedelta(hours=1))  # reads the copy, then one statement
    assert runner.statements == 2 and len(copies) == 1
    runner.statements = 0
    third = await _book(booking, start + dt.timedelta(hours=2))
    assert runner.statements == 1
    for booked in (second, third):
        row = await db.fetchrow(
            "SELECT a.status, a.starts_at, p.nhs_number, c.name AS clinician, d.name AS department,"
            " (SELECT count(*) FROM reminder r WHERE r.appointment_id = a.id) AS reminders"
            " FROM appointment a JOIN patient p ON p.id = a.patient_id JOIN clinician c ON c.id = a.clinician_id"
            " JOIN department d ON d.id = a.department_id WHERE a.id = $1",
            uuid.UUID(booked.id),
        )
        assert dict(row) == {
            "status": "active",
            "starts_at": dt.datetime.fromisoformat(booked.time),
            "nhs_number": PATIENT,
            "clinician": "Dr Jones",
            "department": "cardiology",
            "reminders": 2,
        }
        assert (booked.clinician, booked.department) == ("Dr Jones", "cardiology")


async def test_a_hold_made_since_the_copy_refuses_the_booking(db, booking) -> None:
    start = now() + dt.timedelta(days=2)
    await _book(booking, start)
    await _book(booking, start + dt.timedelta(hours=1))  # the copy is taken
    jones, _version = await _clinician(db)
    await _hold(db, jones, start + dt.timedelta(hours=2))
    with pytest.raises(Conflict) as refused:
        await _book(booking, start + dt.timedelta(hours=2))
    assert refused.value.code == "slot.held"
    assert await db.fetchval("SELECT count(*) FROM appointment") == 2


async def test_a_session_and_an_unavailability_made_since_the_copy_are_obeyed(db, booking) -> None:
    monday = (now() + dt.timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    monday -= dt.timedelta(days=monday.weekday())
    await _book(booking, monday)
    await _book(booking, monday + dt.timedelta(hours=1))
    jones, _version = await _clinician(db)
    department = await db.fetchval("SELECT id FROM department")
    await db.execute(  # Mondays 09:00-12:00 London time, from long ago
        "INSERT INTO schedule (id, clinician_id, department_id, postcode, weekdays, start_minute, end_minute,"
        " slot_minutes, valid_from, created_at, updated_at)"
        " VALUES (gen_random_uuid(), $1, $2, 'N6 2FA', 1, 540, 720, 30, '2020-01-01', now(), now())",
        jones, department,
    )  # fmt: skip
    with pytest.raises(Conflict) as outside:
        await _book(booking, monday + dt.timedelta(hours=8))
    assert outside.value.code == "appointment.outside_schedule"
    await db.execute(
        "INSERT INTO unavailability (id, clinician_id, starts_at, ends_at, created_at, updated_at)"
        " VALUES (gen_random_uuid(), $1, $2, $3, now(), now())",
        jones, monday - dt.timedelta(hours=2), monday + dt.timedelta(hours=5),
    )  # fmt: skip
    with pytest.raises(Conflict) as away:
        await _book(booking, monday + dt.timedelta(minutes=30))  # inside the session
    assert away.value.code == "appointment.clinician_unavailable"


async def test_a_hold_released_since_the_copy_no_longer_refuses(db, booking) -> None:
    start = now() + dt.timedelta(days=2)
    await _book(booking, start)
    jones, _version = await _clinician(db)
    hold = await _hold(db, jones, start + dt.timedelta(hours=2))
    with pytest.raises(Conflict):
        await _book(booking, start + dt.timedelta(hours=2))  # the copy now holds the hold
    await db.execute("DELETE FROM slot_hold WHERE id = $1", hold)
    booked = await _book(booking, start + dt.timedelta(hours=2))
    assert booked.status == "active"


async def test_a_hold_committed_while_the_booking_waits_for_the_lock_refuses_it(db, booking) -> None:
    """The race the version read ``FOR SHARE`` closes: the booking's statement starts (its snapshot
    taken) while another writer holds the clinician's timetable lock, and that writer commits a hold
    on the very slot before the booking gets the lock."""
    start = now() + dt.timedelta(days=2)
    runner, _copies = booking
    await _book(booking, start)
    await _book(booking, start + dt.timedelta(hours=1))  # the copy is taken, without the hold
    jones, _version = await _clinician(db)
    other_writer = db.transaction()
    await other_writer.start()
    await db.execute("SELECT pg_advisory_xact_lock($1)", timetable_keys({"clinician_id": jones})[0])
    await _hold(db, jones, start + dt.timedelta(hours=2))
    runner.statements = 0
    waiting = asyncio.create_task(_book(booking, start + dt.timedelta(hours=2)))
    await asyncio.sleep(0.3)
    assert not waiting.done() and runner.statements == 1  # the one statement, waiting for the lock
    await other_writer.commit()
    with pytest.raises(Conflict) as refused:
        await waiting
    assert refused.value.code == "slot.held"
    assert await db.fetchval("SELECT count(*) FROM appointment") == 2


async def test_bookings_and_holds_racing_for_the_same_slots_never_overlap(db, booking, postgres_url, use_cases) -> None:
    """Four bookers sharing one set of copies (one API process) and four hold makers on the same
    slots of one clinician, at once or holds first: each slot ends with exactly one booking or hold."""
    start = (now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    await _book(booking, start - dt.timedelta(days=1))  # the clinician exists: copies can be taken
    patients = [nhs_number(i) for i in range(10, 14)]
    for number in patients:
        await use_cases.register(patient_body(number))
    copies = booking[1]
    connections = [await asyncpg.connect(_plain_dsn(postgres_url)) for _ in range(8)]

    async def book(connection: asyncpg.Connection, patient: str, slot: dt.datetime) -> None:
        service = AppointmentService(sql=AsyncpgRunner(connection), reminders=ReminderPolicy(), timetables=copies)
        with contextlib.suppress(Conflict):
            await service.book(parse_input(AppointmentCreate, appointment_body(patient, slot)))

    async def hold(connection: asyncpg.Connection, slot: dt.datetime) -> None:
        body = {"clinician": "Dr Jones", "time": slot.isoformat(), "duration": "30m"}
        with contextlib.suppress(Conflict):
            await SlotService(AsyncpgRunner(connection), hold_seconds=600).hold(parse_input(HoldCreate, body))

    try:
        for index in range(12):
            slot = start + dt.timedelta(minutes=30 * index)
            bookers = [book(c, p, slot) for c, p in zip(connections[:4], patients, strict=True)]
            holders = [hold(c, slot) for c in connections[4:]]
            if index % 3 == 0:  # a hold first, then bookers whose copies it made out of date
                await asyncio.gather(*holders)
                await asyncio.gather(*bookers)
            else:  # all at once (the bookers usually win: one statement against a hold's several)
                await asyncio.gather(*bookers, *holders)
    finally:
        for connection in connections:
            await connection.close()
    taken = await db.fetch(
        "SELECT starts_at, count(*) AS n FROM ("
        " SELECT starts_at FROM appointment WHERE status = 'active' AND starts_at >= $1"
        " UNION ALL SELECT starts_at FROM slot_hold WHERE expires_at > now()) t GROUP BY starts_at",
        start,
    )
    assert taken and all(row["n"] == 1 for row in taken), [dict(r) for r in taken]
    kinds = await db.fetchrow(
        "SELECT (SELECT count(*) FROM appointment WHERE starts_at >= $1) AS booked,"
        " (SELECT count(*) FROM slot_hold) AS held",
        start,
    )
    assert kinds["booked"] + kinds["held"] == 12 and kinds["held"] >= 4
