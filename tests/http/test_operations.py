"""Operations: liveness, readiness, the OpenAPI schema and its UI, request ids."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.factories import nhs_number
from tests.http.helpers import assert_problem, create_patient


async def test_health_is_200(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_when_database_and_embedded_broker_answer(client) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.parametrize("backend", ["sqlite"])  # the database is not what is checked here
async def test_not_ready_when_the_configured_broker_is_down(settings, engine) -> None:
    """Readiness checks the broker the app was configured with, not the process environment's."""
    app = create_app(settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"}))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503, response.text
    assert response.json()["broker"] == "unavailable"
    assert response.json()["database"] == "ok"


async def test_openapi_schema_lists_the_paths(client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    expected = {
        "/patients",
        "/patients/{nhs_number}",
        "/patients/{nhs_number}/appointments",
        "/appointments",
        "/appointments/{appointment_id}",
        "/clinicians",
        "/departments",
        "/health",
        "/ready",
    }
    assert expected <= set(schema["paths"]), sorted(schema["paths"])
    assert {"get", "post"} <= set(schema["paths"]["/patients"])
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/appointments/{appointment_id}"])


async def test_schema_ui_is_served_as_html(client) -> None:
    for path in ("/schema", "/schema/swagger"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "openapi" in response.text.lower(), path


async def test_every_response_carries_a_request_id(client) -> None:
    await create_patient(client, nhs_number(0))
    responses = [
        await client.get("/health"),
        await client.get(f"/patients/{nhs_number(0)}"),
        await client.get(f"/patients/{nhs_number(1)}"),
        await client.post("/patients", json={}),
        await client.get("/no/such/route"),
        await client.put("/patients"),
    ]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids), [(r.request.url.path, r.status_code) for r, i in zip(responses, ids, strict=True) if not i]
    assert len(set(ids)) == len(ids)
    problem = assert_problem(responses[2], 404)
    assert problem.get("request_id") == ids[2]
