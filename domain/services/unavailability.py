"""Unavailability: leave, training, bank holidays — time a clinician cannot be booked (SPEC §10)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select

from domain.clock import utcnow
from domain.errors import FieldChecker, NotFound
from domain.inputs import UnavailabilityCreate
from domain.models import Clinician, Unavailability, table
from domain.paging import fetch_page
from domain.rules import check_search_text, entity_key, parse_aware_datetime
from domain.rules.ids import parse_uuid
from domain.schemas import Page, UnavailabilityView, unavailability_view
from domain.services.directory import resolve_entity
from domain.services.timetables import lock_clinician
from domain.sql import Query, SqlRunner, in_transaction

UNAVAILABILITY = table(Unavailability)
CLINICIAN = table(Clinician)
JOINED = UNAVAILABILITY.join(CLINICIAN, CLINICIAN.c.id == UNAVAILABILITY.c.clinician_id)
COLUMNS = (*(c for c in UNAVAILABILITY.c if c.name != "sa_orm_sentinel"), CLINICIAN.c.name.label("clinician"))
BY_ID = Query(select(*COLUMNS).select_from(JOINED).where(UNAVAILABILITY.c.id == bindparam("id")))


@dataclass(frozen=True, slots=True)
class UnavailabilityFilter:
    """The filters of ``GET /unavailability``; each is optional."""

    clinician: str | None = None
    since: dt.datetime | None = None  # ends after this instant
    until: dt.datetime | None = None  # starts before this instant


def parse_unavailability_filter(clinician: str | None, since: str | None, until: str | None) -> UnavailabilityFilter:
    """Validate raw filter values with the domain's rules; every bad one is named in one 400."""
    checker = FieldChecker()
    result = UnavailabilityFilter(
        clinician=checker.check("clinician", clinician, lambda v: check_search_text(v, rule="clinician")),
        since=checker.check("from", since, lambda v: parse_aware_datetime(v, rule="from")),
        until=checker.check("to", until, lambda v: parse_aware_datetime(v, rule="to")),
    )
    checker.raise_if_any()
    return result


class UnavailabilityService:
    """Record, list and delete clinicians' unavailability."""

    def __init__(self, sql: SqlRunner) -> None:
        self.sql = sql

    async def create(self, data: UnavailabilityCreate) -> UnavailabilityView:
        """Record ``[from, to)`` (its order checked by ``UnavailabilityCreate``); bookings already made
        in it stay (they are the service's to move)."""
        now = utcnow()
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "starts_at": data.starts_at,
            "ends_at": data.ends_at,
            "reason": data.reason,
            "created_at": now,
            "updated_at": now,
        }

        async def store() -> Mapping[str, Any]:
            values["clinician_id"], _name = await resolve_entity(self.sql, CLINICIAN, data.clinician)
            await lock_clinician(self.sql, values["clinician_id"])
            await self.sql.execute(insert(UNAVAILABILITY).values(values))
            row = await self.sql.fetch_one(BY_ID, id=values["id"])
            assert row is not None
            return row

        return unavailability_view(await in_transaction(self.sql, store))

    async def search(self, filters: UnavailabilityFilter, limit: int, offset: int) -> Page[UnavailabilityView]:
        """Unavailability overlapping ``[from, to)`` (either may be left out), by start."""
        conditions = []
        if filters.clinician is not None:
            conditions.append(CLINICIAN.c.name_key == entity_key(filters.clinician))
        if filters.since is not None:
            conditions.append(UNAVAILABILITY.c.ends_at > filters.since)
        if filters.until is not None:
            conditions.append(UNAVAILABILITY.c.starts_at < filters.until)
        ordered = select(*COLUMNS).select_from(JOINED).order_by(UNAVAILABILITY.c.starts_at, UNAVAILABILITY.c.id)
        rows, total = await fetch_page(self.sql, ordered, JOINED, conditions, limit, offset)
        return Page(items=[unavailability_view(r) for r in rows], total=total, limit=limit, offset=offset)

    async def remove(self, raw_id: str) -> None:
        """Delete a record of unavailability (404 if unknown or malformed)."""
        found = parse_uuid(raw_id, "unavailability.not_found")
        async with self.sql.transaction():
            stmt = delete(UNAVAILABILITY).where(UNAVAILABILITY.c.id == found).returning(UNAVAILABILITY.c.id)
            gone = await self.sql.fetch_one(stmt)
        if gone is None:
            raise NotFound("unavailability.not_found")
