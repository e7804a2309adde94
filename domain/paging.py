"""Every list of PANDA is paginated the same way: one page of rows, and how many match in all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, func, select

from domain.sql import SqlRunner


async def fetch_page(
    sql: SqlRunner,
    rows: Select[Any],
    count_from: FromClause,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> tuple[list[Mapping[str, Any]], int]:
    """``rows`` (already ordered) filtered by ``conditions``, one page of it, and the total.

    The total is counted over ``count_from`` with the same conditions: the narrowest table or
    join the conditions need, so counting does not pay for the page's joins.
    """
    page = list(await sql.fetch_all(rows.where(*conditions).limit(limit).offset(offset)))
    total = await sql.scalar(select(func.count()).select_from(count_from).where(*conditions))
    return page, int(total)
