"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

MAX_LIMIT = 500

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Page size (1–500).")]
Offset = Annotated[int, QueryParameter(ge=0, description="Items to skip.")]
