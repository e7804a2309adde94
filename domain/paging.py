"""Every list of PANDA is paginated the same way: the page a request asks for, checked with the
list's filters, then one page of rows and how many match in all."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Select, func, select

from domain.errors import FieldChecker, InvalidInput
from domain.rules.pages import DEFAULT_LIMIT, parse_limit, parse_offset
from domain.sql import SqlRunner

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """How much of a list to answer: ``limit`` items after the first ``offset``."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0


def parse_page(limit: str | None, offset: str | None) -> PageRequest:
    """The raw ``limit`` and ``offset`` of a query (absent: the defaults); a 400 names each bad one."""
    return parse_listing(lambda: None, limit, offset)[1]


def parse_listing(filters: Callable[[], T], limit: str | None, offset: str | None) -> tuple[T, PageRequest]:
    """A list's filters (parsed by ``filters``) and its page, checked together: one 400 names every
    bad query field, the filters' first, then ``limit`` and ``offset``."""
    checker = FieldChecker()
    page = PageRequest(
        checker.check("limit", limit, parse_limit, DEFAULT_LIMIT) or DEFAULT_LIMIT,
        checker.check("offset", offset, parse_offset, 0) or 0,
    )
    try:
        parsed = filters()
    except InvalidInput as exc:
        raise InvalidInput([*exc.errors, *checker.errors]) from None
    checker.raise_if_any()
    return parsed, page


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
