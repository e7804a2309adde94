"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

MAX_LIMIT = 500

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Page size (1–500).")]
Offset = Annotated[int, Parameter(ge=0, description="Items to skip.")]
