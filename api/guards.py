"""Checks that run before a body is parsed."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``+json`` type; a missing header is taken as JSON."""
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    return media_type in {"", "application/json"} or media_type.endswith("+json")


async def require_json(request: Request[Any, Any, Any]) -> None:
    """Refuse a body in another content type with 415 before reading it."""
    if request.method in {"POST", "PUT", "PATCH"} and not is_json(request.headers.get("content-type", "")):
        raise HTTPException(status_code=415)
