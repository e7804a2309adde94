"""Clinicians and departments: found by their case-folded name, created on first use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, func, select

from domain.dialects import Dialect, by_code_points, insert_ignoring_conflicts
from domain.models import Appointment, Clinician, Department, table
from domain.paging import fetch_page
from domain.rules import entity_key
from domain.schemas import DirectoryEntryView, Page
from domain.sql import Query, SqlRunner


def _lookup(table: Table) -> Query:
    return Query(select(table.c.id, table.c.name).where(table.c.name_key == bindparam("key")))


def _create(table: Table, dialect: Dialect) -> Query:
    values: dict[str, Any] = {"name": bindparam("name"), "name_key": bindparam("key")}
    return Query(insert_ignoring_conflicts(table, dialect).values(values))


_STATEMENTS = {
    (table.name, dialect.value): (_lookup(table), _create(table, dialect))
    for table in (table(Clinician), table(Department))
    for dialect in Dialect
}


async def resolve_entity(sql: SqlRunner, table: Table, name: str) -> tuple[int, str]:
    """The id and kept spelling of the entity called ``name`` (matched case-insensitively).

    A new name creates the entity; ``INSERT … ON CONFLICT DO NOTHING`` makes concurrent first
    uses of one name agree on one row.
    """
    key = entity_key(name)
    lookup, create = _STATEMENTS[(table.name, sql.dialect)]
    found = await sql.fetch_one(lookup, key=key)
    if found is None:
        await sql.execute(create, name=name, key=key)
        found = await sql.fetch_one(lookup, key=key)
    assert found is not None
    return int(found["id"]), str(found["name"])


class DirectoryService:
    """Clinicians or departments, each with the number of appointments that name it."""

    def __init__(self, sql: SqlRunner, entity: Table, foreign_key: Any) -> None:
        self.sql = sql
        self.entity = entity
        self.foreign_key = foreign_key

    async def list_with_counts(self, limit: int, offset: int) -> Page[DirectoryEntryView]:
        """Entities by name, each with the number of appointments that name it."""
        entity, key = self.entity, self.foreign_key
        counts = select(key.label("entity_id"), func.count().label("n")).group_by(key).subquery()
        ordered = (
            select(entity.c.id, entity.c.name, func.coalesce(counts.c.n, 0).label("appointments"))
            .outerjoin(counts, counts.c.entity_id == entity.c.id)
            .order_by(by_code_points(entity.c.name_key), entity.c.id)
        )
        rows, total = await fetch_page(self.sql, ordered, entity, [], limit, offset)
        items = [DirectoryEntryView(id=r["id"], name=r["name"], appointments=r["appointments"]) for r in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)


def clinician_directory(sql: SqlRunner) -> DirectoryService:
    """Clinicians with their appointment counts."""
    return DirectoryService(sql, table(Clinician), table(Appointment).c.clinician_id)


def department_directory(sql: SqlRunner) -> DirectoryService:
    """Departments with their appointment counts."""
    return DirectoryService(sql, table(Department), table(Appointment).c.department_id)
