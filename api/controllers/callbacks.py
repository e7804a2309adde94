"""``/callbacks/notify``: GOV.UK Notify's delivery receipts (SPEC §11).

Open to the network (no API key or token of PANDA's): Notify authenticates with the bearer token
configured on both sides (``NOTIFY_CALLBACK_TOKEN``), checked before the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.status_codes import HTTP_204_NO_CONTENT

from api.access import requires
from api.guards import is_json
from api.openapi import PROBLEMS_OPT
from api.routes import post
from domain.auth.access import Access
from domain.config import Settings
from domain.rules.delivery import DeliveryStatus
from domain.services.receipts import check_callback_token, record_receipt

_TEXT = Schema(type=OpenAPIType.STRING)
_TIME = Schema(one_of=[Schema(type=OpenAPIType.STRING, format="date-time"), Schema(type=OpenAPIType.NULL)])  # type: ignore[arg-type]
RECEIPT = Schema(
    type=OpenAPIType.OBJECT,
    required=["id", "status"],
    properties={
        "id": _TEXT,
        "reference": Schema(
            description="The reminder's id, sent to Notify as the send's reference.", type=OpenAPIType.STRING
        ),
        "to": _TEXT,
        "status": Schema(type=OpenAPIType.STRING, enum=[s.value for s in DeliveryStatus]),
        "created_at": _TIME,
        "completed_at": _TIME,
        "sent_at": _TIME,
        "notification_type": _TEXT,
    },
    description="GOV.UK Notify's delivery receipt; other fields Notify sends are ignored.",
)


@dataclass
class ReceiptOperation(Operation):
    """The operation, with the body it reads itself (after checking the token) documented."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(content={"application/json": OpenAPIMediaType(schema=RECEIPT)}, required=True)


@post(
    "/callbacks/notify",
    status_code=HTTP_204_NO_CONTENT,
    guards=[requires(Access.OPEN)],
    tags=["reminders"],
    opt={PROBLEMS_OPT: [400, 401, 404, 415]},
    operation_class=ReceiptOperation,
)
async def notify_receipt(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], sql: NamedDependency[Any]
) -> None:
    """Record a delivery receipt on the reminder its ``reference`` names; repeating one changes nothing."""
    check_callback_token(request.headers.get("authorization"), settings.notify_callback_token)
    if not is_json(request.headers.get("content-type", "")):  # after the token: strangers learn nothing
        raise HTTPException(status_code=415)
    await record_receipt(sql, await request.body())
