"""Free slots and holds (SPEC §10).

A search is a handful of set-based queries whatever its range: the matching schedules (one
query, with names), then every busy interval of their clinicians in the window (one
``UNION ALL`` of active appointments, unexpired holds and unavailability); the grid and the
subtraction are plain Python (``domain.rules.slots``). No query per clinician, day or slot.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, union_all

from domain.clock import utcnow
from domain.errors import Conflict, FieldChecker, FieldError, NotFound
from domain.inputs import HoldCreate
from domain.models import Appointment, Clinician, Department, Schedule, SlotHold, Unavailability, table
from domain.rules import Status, check_search_text, coerce_postcode, entity_key, parse_aware_datetime, to_utc_iso
from domain.rules.durations import MAX_MINUTES, parse_duration
from domain.rules.ids import check_uuid, parse_uuid
from domain.rules.periods import parse_range_bound
from domain.rules.schedules import london_date
from domain.rules.slots import MAX_SEARCH_DAYS, BusyTimes, check_hold, check_search_range, free_starts
from domain.schemas import HoldView, Page, SlotView
from domain.services.directory import resolve_entity
from domain.services.timetables import load_timetables, lock_clinician, session_of
from domain.sql import ConstraintViolation, Query, SqlRunner, in_transaction

SCHEDULE = table(Schedule)
APPOINTMENT = table(Appointment)
HOLD = table(SlotHold)
UNAVAILABILITY = table(Unavailability)
CLINICIAN = table(Clinician)
DEPARTMENT = table(Department)
LONGEST_BOOKING = dt.timedelta(minutes=MAX_MINUTES)  # the longest appointment, and search duration

CLINICIAN_OVERLAP = Query(
    select(APPOINTMENT.c.id)
    .where(
        APPOINTMENT.c.clinician_id == bindparam("clinician_id"),
        APPOINTMENT.c.status == Status.ACTIVE.value,
        APPOINTMENT.c.starts_at < bindparam("ends_at"),
        APPOINTMENT.c.ends_at > bindparam("starts_at"),
    )
    .limit(1)
)
UNEXPIRED_HOLD = Query(
    select(HOLD.c.id)
    .where(
        HOLD.c.clinician_id == bindparam("clinician_id"),
        HOLD.c.expires_at > bindparam("now"),
        HOLD.c.starts_at < bindparam("ends_at"),
        HOLD.c.ends_at > bindparam("starts_at"),
    )
    .limit(1)
)
# Expired holds still stand in the exclusion constraint's way until they are gone.
CLEAR_EXPIRED = Query(
    delete(HOLD).where(
        HOLD.c.clinician_id == bindparam("clinician_id"),
        HOLD.c.expires_at <= bindparam("now"),
        HOLD.c.starts_at < bindparam("ends_at"),
        HOLD.c.ends_at > bindparam("starts_at"),
    )
)
INSERT_HOLD = Query(insert(HOLD).values({c.name: bindparam(c.name) for c in HOLD.c if c.name != "sa_orm_sentinel"}))
RELEASE_HOLD = Query(delete(HOLD).where(HOLD.c.id == bindparam("id")).returning(HOLD.c.id))


@dataclass(frozen=True)
class SlotSearch:
    """A validated ``GET /slots`` query."""

    start: dt.datetime
    end: dt.datetime
    department: str | None = None
    clinician: str | None = None
    postcode: str | None = None
    duration: int | None = None
    schedule: uuid.UUID | None = None


def parse_fhir_search(schedule: str | None, starts: list[str]) -> SlotSearch:
    """``GET /fhir/Slot``'s parameters: ``schedule`` and ``start=ge…&start=lt…`` (dates are London days)."""
    checker = FieldChecker()
    found = checker.check("schedule", schedule, check_uuid)
    bounds: dict[str, dt.datetime | None] = {"ge": None, "lt": None}
    for raw in starts:
        prefix, value = raw[:2], raw[2:]
        if prefix not in bounds or bounds[prefix] is not None:
            checker.errors.append(FieldError("start", "start.bounds"))
            continue
        rule = "from" if prefix == "ge" else "to"
        bounds[prefix] = checker.check("start", value, functools.partial(parse_range_bound, rule=rule))
    since, until = bounds["ge"], bounds["lt"]
    if schedule is None:
        checker.errors.append(FieldError("schedule", "field.required"))
    if not starts:  # the message shows how to give both bounds
        checker.errors.append(FieldError("start", "start.bounds"))
    if since is not None and until is not None and (problem := check_search_range(since, until)):
        params = {"max": MAX_SEARCH_DAYS, "variant": "days"} if problem == "range.too_long" else {}
        checker.errors.append(FieldError("start", problem, params))
    if starts and not checker.errors and (since is None or until is None):
        checker.errors.append(FieldError("start", "start.bounds"))
    checker.raise_if_any()
    assert since is not None and until is not None
    return SlotSearch(since, until, schedule=found)


def _given(raw: str | None) -> str | None:
    """``None`` for a filter of spaces only; any other value as sent, a control character included
    (``strip`` would take ``\\n`` for blank, and the filter's own rule refuses it)."""
    return None if raw is not None and not raw.strip() and raw.isprintable() else raw


def parse_search(
    department: str | None,
    clinician: str | None,
    postcode: str | None,
    start: str | None,
    end: str | None,
    duration: str | None,
) -> SlotSearch:
    """Check every parameter of a slot search, naming each bad one in one 400."""
    checker = FieldChecker()
    # A blank filter is one not given (a form's empty field): ``?department=`` alone names no one,
    # so it is refused as the search with neither filter is, not answered with no slots.
    department, clinician = _given(department), _given(clinician)
    department = checker.check("department", department, lambda v: check_search_text(v, rule="department"))
    clinician = checker.check("clinician", clinician, lambda v: check_search_text(v, rule="clinician"))
    postcode = checker.check("postcode", postcode, coerce_postcode)
    since = checker.check("from", start, lambda v: parse_aware_datetime(v, rule="from"))
    until = checker.check("to", end, lambda v: parse_aware_datetime(v, rule="to"))
    minutes = checker.check("duration", duration, parse_duration)
    errors = checker.errors
    if department is None and clinician is None and not any(e.field in {"department", "clinician"} for e in errors):
        errors.append(FieldError("department", "slots.filter_required"))
    for field, raw in (("from", start), ("to", end)):
        if raw is None:
            errors.append(FieldError(field, "field.required"))
    if since is not None and until is not None and (problem := check_search_range(since, until)):
        params = {"max": MAX_SEARCH_DAYS, "variant": "days"} if problem == "range.too_long" else {}
        errors.append(FieldError("to", problem, params))
    checker.raise_if_any()
    assert since is not None and until is not None
    return SlotSearch(since, until, department, clinician, postcode, minutes)


def _schedules_query(search: SlotSearch) -> Any:
    first, last = london_date(search.start) - dt.timedelta(days=1), london_date(search.end)
    conditions = [SCHEDULE.c.valid_from <= last, or_(SCHEDULE.c.valid_to.is_(None), SCHEDULE.c.valid_to >= first)]
    if search.department is not None:
        conditions.append(DEPARTMENT.c.name_key == entity_key(search.department))
    if search.clinician is not None:
        conditions.append(CLINICIAN.c.name_key == entity_key(search.clinician))
    if search.postcode is not None:
        conditions.append(SCHEDULE.c.postcode == search.postcode)
    if search.schedule is not None:
        conditions.append(SCHEDULE.c.id == search.schedule)
    joined = SCHEDULE.join(CLINICIAN, CLINICIAN.c.id == SCHEDULE.c.clinician_id).join(
        DEPARTMENT, DEPARTMENT.c.id == SCHEDULE.c.department_id
    )
    names = (CLINICIAN.c.name.label("clinician"), CLINICIAN.c.name_key, DEPARTMENT.c.name.label("department"))
    return select(SCHEDULE, *names).select_from(joined).where(*conditions)


def _busy_query(clinician_ids: list[int], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Any:
    """Every busy interval of these clinicians overlapping ``[start, end)``, in one statement (and
    appointments that ended up to 12 hours before ``start``, which free nothing)."""

    def part(source: Any, *condition: Any) -> Any:
        columns = (source.c.clinician_id, source.c.starts_at, source.c.ends_at)
        return select(*columns).where(source.c.clinician_id.in_(clinician_ids), source.c.starts_at < end, *condition)

    # No appointment lasts longer than 12 hours: a lower bound on the start lets an index on the
    # start find the window instead of scanning all earlier history. An appointment that ended
    # before ``start`` frees no slot, so appointments are not also asked to end after it: with that
    # condition PostgreSQL combined the (status, ends_at) index, misled because active means future
    # (at 10M appointments it read 828k entries for 1.4k rows, 22 ms of a 50 ms slot search).
    earliest = start - LONGEST_BOOKING
    return union_all(
        part(APPOINTMENT, APPOINTMENT.c.status == Status.ACTIVE.value, APPOINTMENT.c.starts_at > earliest),
        part(HOLD, HOLD.c.ends_at > start, HOLD.c.expires_at > now),
        part(UNAVAILABILITY, UNAVAILABILITY.c.ends_at > start),
    )


class SlotService:
    """Search free slots; hold and release them."""

    def __init__(self, sql: SqlRunner, hold_seconds: int = 300) -> None:
        self.sql = sql
        self.hold_seconds = hold_seconds

    async def free(self, search: SlotSearch) -> list[tuple[dt.datetime, str, dt.datetime, Mapping[str, Any]]]:
        """Every free slot of the search as ``(start, clinician key, end, schedule row)``, by start
        then clinician: one query for the schedules, one for their clinicians' busy times."""
        now = utcnow()
        window_start = max(search.start, now)
        if window_start >= search.end:
            return []
        schedules = list(await self.sql.fetch_all(_schedules_query(search)))
        if not schedules:
            return []
        ids = sorted({int(r["clinician_id"]) for r in schedules})
        busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for row in await self.sql.fetch_all(_busy_query(ids, window_start, search.end + LONGEST_BOOKING, now)):
            busy[int(row["clinician_id"])].append((row["starts_at"], row["ends_at"]))
        busy_times = {clinician: BusyTimes(intervals) for clinician, intervals in busy.items()}
        # No two sessions of one clinician overlap (``schedule.overlap``), so no slot comes twice.
        found: list[tuple[dt.datetime, str, dt.datetime, int]] = []
        for index, row in enumerate(schedules):
            times = busy_times.get(int(row["clinician_id"]), BusyTimes(()))
            free = free_starts([session_of(row)], times, search.duration, window_start, search.end)
            found.extend((start, row["name_key"], end, index) for start, end, _session in free)
        found.sort()
        return [(start, key, end, schedules[index]) for start, key, end, index in found]

    async def search(self, search: SlotSearch, limit: int, offset: int) -> Page[SlotView]:
        """Free slots by start, then clinician; one page of them and how many there are."""
        slots = await self.free(search)
        items = [
            SlotView(
                clinician=row["clinician"],
                department=row["department"],
                postcode=row["postcode"],
                start=to_utc_iso(start),
                end=to_utc_iso(end),
            )
            for start, _key, end, row in slots[offset : offset + limit]
        ]
        return Page(items=items, total=len(slots), limit=limit, offset=offset)

    async def hold(self, data: HoldCreate) -> HoldView:
        """Hold ``[time, time + duration)`` for ``hold_seconds``; 409 ``slot.taken`` if it is booked or held."""
        now = utcnow()
        start, end = data.time, data.time + dt.timedelta(minutes=data.duration)
        hold_id = uuid.uuid4()
        expires_at = now + dt.timedelta(seconds=self.hold_seconds)

        async def take() -> str:
            clinician_id, name = await resolve_entity(self.sql, CLINICIAN, data.clinician)
            await lock_clinician(self.sql, clinician_id)
            timetable = (await load_timetables(self.sql, [clinician_id], start, end, now))[clinician_id]
            check_hold(timetable, start, end, now)
            interval = {"clinician_id": clinician_id, "starts_at": start, "ends_at": end}
            if timetable.holds or await self.sql.scalar(CLINICIAN_OVERLAP, **interval) is not None:
                raise Conflict("slot.taken")
            await self.sql.execute(CLEAR_EXPIRED, now=now, **interval)
            try:
                await self.sql.execute(
                    INSERT_HOLD, id=hold_id, expires_at=expires_at, created_at=now, updated_at=now, **interval
                )
            except ConstraintViolation as exc:
                if "slot_hold" in exc.name:
                    raise Conflict("slot.taken") from None
                raise
            return name

        name = await in_transaction(self.sql, take)
        return HoldView(
            id=str(hold_id),
            clinician=name,
            start=to_utc_iso(start),
            end=to_utc_iso(end),
            expires_at=to_utc_iso(expires_at),
        )

    async def release(self, raw_id: str) -> None:
        """Give a held slot back (404 if unknown, malformed or already gone)."""
        hold_id = parse_uuid(raw_id, "hold.not_found")
        async with self.sql.transaction():
            gone = await self.sql.fetch_one(RELEASE_HOLD, id=hold_id)
        if gone is None:
            raise NotFound("hold.not_found")


__all__ = ["SlotSearch", "SlotService", "parse_fhir_search", "parse_search"]
