"""AUTH_MODE: off on a developer's loopback host, on anywhere else, a warning when switched off on a network;
with auth off every request acts as ``anonymous`` holding every role, and is audited as such."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from api.app import create_app
from domain.config import Settings
from tests.factories import nhs_number, patient_body


@pytest.mark.parametrize(
    ("host", "mode", "enabled"),
    [
        ("127.0.0.1", None, False),
        ("127.8.9.10", None, False),
        ("::1", None, False),
        ("localhost", None, False),
        ("0.0.0.0", None, True),
        ("10.1.2.3", None, True),
        ("panda.hospital.nhs.uk", None, True),
        ("127.0.0.1", "on", True),
        ("0.0.0.0", "off", False),
    ],
)
def test_auth_is_on_unless_the_host_is_loopback_or_it_is_switched_off(host, mode, enabled) -> None:
    assert Settings(_env_file=None, host=host, auth_mode=mode).auth_enabled is enabled


def test_switching_auth_off_on_a_network_host_warns_at_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/p.sqlite"
    with capture_logs() as logs:
        create_app(Settings(_env_file=None, database_url=url, host="0.0.0.0", auth_mode="off"))
    assert any(entry["event"] == "auth.disabled" and entry["log_level"] == "warning" for entry in logs)
    with capture_logs() as logs:
        create_app(Settings(_env_file=None, database_url=url, host="127.0.0.1"))
    assert not any(entry["event"] == "auth.disabled" for entry in logs)


async def test_with_auth_off_requests_act_as_anonymous_and_are_audited(settings: Settings, engine) -> None:
    app = create_app(settings.model_copy(update={"auth_mode": None, "host": "127.0.0.1"}))
    async with AsyncTestClient(app=app) as client:
        created = await client.post("/patients", json=patient_body(nhs_number(0)))
        assert created.status_code == 201
        page = (await client.get("/audit")).json()  # anonymous holds every role, auditor included
    [event] = [e for e in page["items"] if e["request_id"] == created.headers["x-request-id"]]
    assert event["actor"] == "anonymous"
    assert event["roles"] == ["admin", "auditor", "booking", "clinician", "ops"]
    assert (event["action"], event["patient"]) == ("create", nhs_number(0))


async def test_an_answer_whose_event_cannot_be_stored_is_503_instead(tmp_path: Path) -> None:
    """The database is gone: a 404 that needs no database still may not leave without its event."""
    gone = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    app = create_app(Settings(_env_file=None, database_url=gone, broker_url=f"sqla+sqlite:///{tmp_path}/b.sqlite"))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/patients/not-a-number", headers={"Accept-Language": "cy"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.headers["content-language"] == "cy"
        assert response.json()["code"] == "service.unavailable"
        assert response.json()["request_id"] == response.headers["x-request-id"]
        assert (await client.get("/health")).status_code == 200  # not audited: unaffected
