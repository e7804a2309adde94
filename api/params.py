"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

MAX_LIMIT = 500
# Beyond any list PANDA holds; unbounded, a huge offset overflowed the database's integer (a 500).
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Page size (1–500).")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip.")]
