"""``head_as_get``: a ``HEAD`` reaches the app as a ``GET`` on a copy of the scope; the server's own
scope keeps ``HEAD`` (uvicorn checks the body against ``Content-Length`` by it), the body is
dropped, and the access log names the method asked."""

from __future__ import annotations

from typing import Any

from api.allow import head_as_get
from api.middleware import request_id_middleware


def _stack(seen: list[str], lines: list[dict[str, Any]]) -> Any:
    async def app(scope: Any, _receive: Any, send: Any) -> None:
        seen.append(scope["method"])
        scope["path_template"] = "/things/{id}"  # as Litestar's router sets it
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        await send({"type": "http.response.body", "body": b"hello", "more_body": True})
        await send({"type": "http.response.body", "body": b"world", "more_body": False})

    return head_as_get(request_id_middleware(app, lines.append))


async def _call(method: str) -> tuple[dict[str, Any], list[str], list[dict[str, Any]], list[dict[str, Any]]]:
    seen: list[str] = []
    lines: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "method": method, "path": "/things/1", "headers": [], "state": {}}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await _stack(seen, lines)(scope, None, send)
    return scope, seen, lines, sent


async def test_head_is_answered_as_get_without_its_body() -> None:
    scope, seen, lines, sent = await _call("HEAD")
    assert seen == ["GET"]
    assert scope["method"] == "HEAD", "the server's scope still says HEAD"
    assert sent[0]["status"] == 200 and (b"content-length", b"10") in sent[0]["headers"]
    assert [m["body"] for m in sent[1:]] == [b""] and sent[-1]["more_body"] is False
    assert (lines[0]["method"], lines[0]["route"], lines[0]["status"]) == ("HEAD", "/things/{id}", 200)


async def test_other_methods_pass_untouched() -> None:
    scope, seen, lines, sent = await _call("GET")
    assert seen == ["GET"] and scope["method"] == "GET"
    assert [m["body"] for m in sent[1:]] == [b"hello", b"world"]
    assert lines[0]["method"] == "GET"
