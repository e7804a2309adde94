"""Schedules: clinicians' recurring sessions (SPEC §10); no two of one clinician clash."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from domain.clock import utcnow
from domain.dialects import by_code_points
from domain.errors import Conflict, FieldChecker, InvalidInput, NotFound
from domain.inputs import ScheduleCreate, ScheduleUpdate, requested_changes
from domain.models import Clinician, Department, Schedule, table
from domain.paging import fetch_page
from domain.rules import check_search_text, entity_key
from domain.rules.ids import parse_uuid
from domain.rules.schedules import Session, check_session, first_clash, london_date
from domain.schemas import Page, ScheduleView, schedule_view
from domain.services.directory import resolve_entity
from domain.services.timetables import lock_clinician, session_of
from domain.sql import Query, SqlRunner, in_transaction

SCHEDULE = table(Schedule)
CLINICIAN = table(Clinician)
DEPARTMENT = table(Department)
JOINED = SCHEDULE.join(CLINICIAN, CLINICIAN.c.id == SCHEDULE.c.clinician_id).join(
    DEPARTMENT, DEPARTMENT.c.id == SCHEDULE.c.department_id
)
COLUMNS = (
    *(c for c in SCHEDULE.c if c.name != "sa_orm_sentinel"),
    CLINICIAN.c.name.label("clinician"),
    DEPARTMENT.c.name.label("department"),
)
SCHEDULE_BY_ID = Query(select(*COLUMNS).select_from(JOINED).where(SCHEDULE.c.id == bindparam("id")))
CLINICIANS_SCHEDULES = Query(select(SCHEDULE).where(SCHEDULE.c.clinician_id == bindparam("clinician_id")))
FIELD_COLUMNS = {"start": "start_minute", "end": "end_minute", "slot": "slot_minutes"}


@dataclass(frozen=True, slots=True)
class ScheduleFilter:
    """The filters of ``GET /schedules``; each is optional."""

    clinician: str | None = None
    department: str | None = None


def parse_schedule_filter(clinician: str | None, department: str | None) -> ScheduleFilter:
    """Validate raw filter values with the domain's rules; every bad one is named in one 400."""
    checker = FieldChecker()
    result = ScheduleFilter(
        clinician=checker.check("clinician", clinician, lambda v: check_search_text(v, rule="clinician")),
        department=checker.check("department", department, lambda v: check_search_text(v, rule="department")),
    )
    checker.raise_if_any()
    return result


def _session(values: Mapping[str, Any]) -> Session:
    session = session_of(values)
    errors = check_session(session)
    if errors:
        raise InvalidInput(errors)
    return session


class ScheduleService:
    """Create, list, read, change and delete schedules."""

    def __init__(self, sql: SqlRunner) -> None:
        self.sql = sql

    async def create(self, data: ScheduleCreate) -> ScheduleView:
        """A new session; 409 ``schedule.overlap`` if it clashes with another of the clinician's."""
        now = utcnow()
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "postcode": data.postcode,
            "weekdays": data.weekdays,
            "start_minute": data.start,
            "end_minute": data.end,
            "slot_minutes": data.slot,
            "valid_from": data.valid_from or london_date(now),
            "valid_to": data.valid_to,
            "created_at": now,
            "updated_at": now,
        }
        session = _session(values)

        async def store() -> None:
            values["clinician_id"], _name = await resolve_entity(self.sql, CLINICIAN, data.clinician)
            values["department_id"], _name = await resolve_entity(self.sql, DEPARTMENT, data.department)
            await self._refuse_clash(values["clinician_id"], session, values["id"])
            await self.sql.execute(insert(SCHEDULE).values(values))

        await in_transaction(self.sql, store)
        return await self.read(str(values["id"]))

    async def _refuse_clash(self, clinician_id: int, session: Session, own_id: uuid.UUID) -> None:
        await lock_clinician(self.sql, clinician_id)
        rows = await self.sql.fetch_all(CLINICIANS_SCHEDULES, clinician_id=clinician_id)
        if first_clash(session, [session_of(r) for r in rows if r["id"] != own_id]) is not None:
            raise Conflict("schedule.overlap")

    async def read(self, raw_id: str) -> ScheduleView:
        """One schedule (404 if unknown or malformed)."""
        return schedule_view(await self._row(parse_uuid(raw_id, "schedule.not_found")))

    async def _row(self, schedule_id: uuid.UUID) -> Mapping[str, Any]:
        row = await self.sql.fetch_one(SCHEDULE_BY_ID, id=schedule_id)
        if row is None:
            raise NotFound("schedule.not_found")
        return row

    async def search(self, filters: ScheduleFilter, limit: int, offset: int) -> Page[ScheduleView]:
        """Schedules by clinician, department, weekday mask and start, optionally filtered."""
        conditions = []
        if filters.clinician is not None:
            conditions.append(CLINICIAN.c.name_key == entity_key(filters.clinician))
        if filters.department is not None:
            conditions.append(DEPARTMENT.c.name_key == entity_key(filters.department))
        ordered = (
            select(*COLUMNS)
            .select_from(JOINED)
            .order_by(by_code_points(CLINICIAN.c.name_key), SCHEDULE.c.start_minute, SCHEDULE.c.id)
        )
        rows, total = await fetch_page(self.sql, ordered, JOINED, conditions, limit, offset)
        return Page(items=[schedule_view(r) for r in rows], total=total, limit=limit, offset=offset)

    async def amend(self, raw_id: str, data: ScheduleUpdate) -> ScheduleView:
        """Change a schedule; the result must still be a valid session that clashes with no other."""
        schedule_id = parse_uuid(raw_id, "schedule.not_found")

        async def change() -> None:
            row = await self._row(schedule_id)
            changes = requested_changes(data, {})
            values: dict[str, Any] = {FIELD_COLUMNS.get(k, k): v for k, v in changes.items()}
            if "clinician" in values:
                values["clinician_id"], _name = await resolve_entity(self.sql, CLINICIAN, values.pop("clinician"))
            if "department" in values:
                values["department_id"], _name = await resolve_entity(self.sql, DEPARTMENT, values.pop("department"))
            if not values:
                return
            merged = {**row, **values}
            session = _session(merged)
            await self._refuse_clash(merged["clinician_id"], session, schedule_id)
            values["updated_at"] = utcnow()
            await self.sql.execute(update(SCHEDULE).where(SCHEDULE.c.id == schedule_id).values(values))

        await in_transaction(self.sql, change)
        return await self.read(str(schedule_id))

    async def remove(self, raw_id: str) -> None:
        """Delete a schedule; appointments booked in its sessions stay as they are."""
        schedule_id = parse_uuid(raw_id, "schedule.not_found")
        async with self.sql.transaction():
            gone = await self.sql.fetch_one(
                delete(SCHEDULE).where(SCHEDULE.c.id == schedule_id).returning(SCHEDULE.c.id)
            )
        if gone is None:
            raise NotFound("schedule.not_found")
