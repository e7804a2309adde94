"""``/callbacks/notify``: GOV.UK Notify's delivery receipts (SPEC §11).

Open to the network (no API key or token of PANDA's): Notify authenticates with the bearer token
configured on both sides (``NOTIFY_CALLBACK_TOKEN``), checked before the body is read.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.access import requires
from api.openapi import PROBLEMS_OPT
from domain.auth.access import Access
from domain.config import Settings
from domain.services.receipts import check_callback_token, record_receipt


@post(
    "/callbacks/notify",
    status_code=HTTP_204_NO_CONTENT,
    guards=[requires(Access.OPEN)],
    tags=["reminders"],
    opt={PROBLEMS_OPT: [400, 401, 404]},
)
async def notify_receipt(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], sql: NamedDependency[Any]
) -> None:
    """Record a delivery receipt on the reminder its ``reference`` names; repeating one changes nothing."""
    check_callback_token(request.headers.get("authorization"), settings.notify_callback_token)
    await record_receipt(sql, await request.body())
