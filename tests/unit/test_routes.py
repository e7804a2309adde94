"""PANDA's route decorators: guards run as Litestar runs them, but are handed the handler itself."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.exceptions import NotAuthorizedException
from litestar.testing import TestClient

from api import routes

seen: list[tuple[Any, Any]] = []


async def remember(connection: Any, handler: Any) -> None:
    seen.append((handler, connection.route_handler))


async def refuse(_connection: Any, _handler: Any) -> None:
    raise NotAuthorizedException


@routes.get("/open", guards=[remember], sync_to_thread=False)
def open_route() -> str:
    return "in"


@routes.post("/closed", guards=[remember, refuse], sync_to_thread=False)
def closed_route() -> str:
    return "in"


def test_guards_get_the_handler_itself_and_still_refuse() -> None:
    seen.clear()
    with TestClient(Litestar([open_route, closed_route])) as client:
        assert client.get("/open").text == "in"
        assert client.post("/closed").status_code == 401
    assert len(seen) == 2
    for handed, matched in seen:
        assert handed is matched, "no copy per guard call"
    # The same defaults as Litestar's own decorators: a POST answers 201.
    assert (open_route.http_methods, closed_route.http_methods) == ({"GET"}, {"POST"})
    assert (open_route.status_code, closed_route.status_code) == (200, 201)
