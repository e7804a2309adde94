"""``/health`` (the process serves) and ``/ready`` (its database and broker answer)."""

from __future__ import annotations

import asyncio

from kombu import Connection  # type: ignore[attr-defined]
from litestar import Controller, Response
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.access import requires
from api.routes import get
from domain.auth.access import Access
from domain.config import Settings

CHECK_TIMEOUT = 3.0
NOT_READY = ResponseSpec(
    data_container=dict[str, str], description="The database or the broker does not answer; the body says which."
)


def _broker_answers(url: str) -> bool:
    with Connection(url, connect_timeout=CHECK_TIMEOUT) as connection:  # type: ignore[no-untyped-call]
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT)
    return True


async def _database_answers(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


async def _check(probe: asyncio.Future[bool] | asyncio.Task[bool] | object) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return "unavailable"
    return "ok"


class HealthController(Controller):
    """Probes for load balancers and orchestrators."""

    tags = ["operations"]

    @get("/health", cache=False, guards=[requires(Access.OPEN)])
    async def health(self) -> dict[str, str]:
        """Liveness: 200 while the process serves requests."""
        return {"status": "ok"}

    @get("/ready", cache=False, guards=[requires(Access.OPEN)], responses={503: NOT_READY})
    async def ready(
        self, db_engine: NamedDependency[AsyncEngine], settings: NamedDependency[Settings]
    ) -> Response[dict[str, str]]:
        """Readiness: 200 when the database and the broker answer, else 503."""
        database = await _check(_database_answers(db_engine))
        broker = await _check(asyncio.to_thread(_broker_answers, settings.broker_url))
        ok = database == broker == "ok"
        return Response(
            {"status": "ok" if ok else "unavailable", "database": database, "broker": broker},
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )
