"""Every route × every role, no credential and a revoked key: exactly SPEC §9's answers.

The routes come from the running app and each one's roles from the access it declares beside it
(``guards=[requires(Access.X)]``), so a route added later is checked too, and one added without
a declaration fails here and in ``tests/unit/test_access_table.py``.
"""

from __future__ import annotations

import re
import uuid

from litestar.routes import HTTPRoute

from api.access import declared_access
from domain.auth.access import Access, may
from domain.auth.actor import Actor, Role
from tests.auth.conftest import Keys
from tests.factories import nhs_number

PATH_PARAMETER = re.compile(r"\{(\w+):\w+\}")
CREDENTIALS = ["none", "revoked", *[role.value for role in Role]]


def concrete(path: str) -> str:
    """The route's path with well-formed values for its parameters."""
    return PATH_PARAMETER.sub(lambda m: nhs_number(3) if m.group(1) == "nhs_number" else str(uuid.uuid4()), path)


def routes(app) -> list[tuple[str, str, Access | None]]:
    """(method, path template, declared access) of every HTTP route but the schema's."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, declared_access(handler)))
    return found


def expected(access: Access, credential: str) -> str:
    if access is Access.OPEN:
        return "let in"
    if credential == "none":
        return "401 auth.required"
    if credential == "revoked":
        return "401 auth.invalid"
    return "let in" if may(Actor(credential, frozenset({Role(credential)})), access) else "403 auth.forbidden"


def answered(response) -> str:
    if response.status_code in (401, 403):
        return f"{response.status_code} {response.json()['code']}"
    return "let in"


async def test_every_route_answers_every_role_as_the_spec_says(app, client, keys: Keys) -> None:
    table = routes(app)
    assert len(table) >= 25
    assert all(access is not None for _m, _p, access in table), "a route declares no access"
    wrong = []
    for method, path, access in table:
        assert access is not None
        url = concrete(path)
        for credential in CREDENTIALS:
            headers = {} if credential == "none" else keys.header(credential)
            body = {"json": {}} if method in {"POST", "PATCH", "PUT"} else {}
            response = await client.request(method, url, headers=headers, **body)
            want, got = expected(access, credential), answered(response)
            if access is Access.OPEN and response.status_code != 403:
                continue  # open to everyone; a route's own token (the Notify callback's) may still answer 401
            if want != got:
                wrong.append((method, path, credential, want, got, response.status_code))
    assert wrong == []


async def test_open_routes_need_no_credential(client) -> None:
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200
    assert (await client.get("/ready")).status_code in (200, 503)


async def test_a_clinician_may_change_only_an_appointments_status(client, keys: Keys) -> None:
    url = f"/appointments/{uuid.uuid4()}"
    status_only = await client.patch(url, json={"status": "attended"}, headers=keys.header("clinician"))
    assert status_only.status_code == 404  # let in: there is no such appointment
    reschedule = await client.patch(url, json={"duration": "1h"}, headers=keys.header("clinician"))
    assert reschedule.status_code == 403 and reschedule.json()["code"] == "auth.forbidden"
    assert (await client.patch(url, json={"duration": "1h"}, headers=keys.header("booking"))).status_code == 404
    # Refused for naming the field, whatever its value: a bad value is not explained to a clinician.
    for body in ({"time": "bad"}, {"status": "attended", "department": None}, {"clinician": ""}):
        refused = await client.patch(url, json=body, headers=keys.header("clinician"))
        assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden"), body
    assert (await client.patch(url, json={"time": "bad"}, headers=keys.header("booking"))).status_code == 400
    malformed = await client.patch(
        url, content=b"{", headers={"Content-Type": "application/json", **keys.header("clinician")}
    )
    assert malformed.status_code == 400


async def test_the_schema_tells_clients_how_to_authenticate(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    read = schema["paths"]["/patients/{nhs_number}"]["get"]
    assert read["security"] == [{"bearer": []}] and {"401", "403"} <= set(read["responses"])
    health = schema["paths"]["/health"]["get"]
    assert health["security"] == [] and "401" not in health["responses"]
