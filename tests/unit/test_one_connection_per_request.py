"""Every handler takes at most one service that opens the request's runner.

Each such provider acquires a pooled connection of its own (``api/dependencies.py``): a handler
taking two would hold two connections, in two transactions, for one request. The patient and
appointment handlers open theirs in the handler instead (``open_patients``, ``open_appointments``):
their one block is checked below by reading them.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest
from litestar.di import Provide

from api.app import create_app
from api.controllers.appointments import AppointmentController
from api.controllers.patients import PatientController
from api.dependencies import OpenService, on_request_sql, opens_request_sql, provide_fhir
from domain.config import Settings


def test_no_handler_takes_two_services_on_their_own_connections(tmp_path: Path) -> None:
    app = create_app(Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/p.sqlite"))  # type: ignore[call-arg]
    taking: dict[str, list[str]] = {}
    for route in app.routes:
        for handler in route.route_handlers:
            providers = handler.resolve_dependencies()
            wanted = handler.parsed_fn_signature.parameters
            opened = sorted(name for name in wanted if name in providers and opens_request_sql(providers[name]))
            taking[f"{sorted(getattr(handler, 'http_methods', ['WS']))} {route.path}"] = opened
    assert taking["['GET'] /fhir/Patient/{nhs_number:str}"] == ["fhir"]  # the check sees providers
    assert {route: opened for route, opened in taking.items() if len(opened) > 1} == {}


def test_the_marker_is_on_every_request_sql_provider_only() -> None:
    assert opens_request_sql(provide_fhir)
    assert opens_request_sql(on_request_sql(lambda sql, _request: sql, "x"))
    assert not opens_request_sql(Provide(lambda: 1, sync_to_thread=False))


def test_patient_and_appointment_handlers_open_one_service_each() -> None:
    for controller in (PatientController, AppointmentController):
        for name, member in vars(controller).items():
            handler = getattr(member, "fn", None)
            if handler is None:
                continue
            source = inspect.getsource(handler)
            assert source.count("async with open_") == 1, (controller.__name__, name)


async def test_a_service_that_cannot_be_built_gives_its_runner_back() -> None:
    exits: list[object] = []

    class Runner:
        async def __aenter__(self) -> str:
            return "sql"

        async def __aexit__(self, *exc_info: object) -> None:
            exits.append(exc_info[1])

    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(request_sql=lambda _request: Runner())))

    def broken(_sql: object, _request: object) -> object:
        raise RuntimeError("no service")

    with pytest.raises(RuntimeError):
        async with OpenService(broken, request):  # type: ignore[arg-type]
            pass
    assert len(exits) == 1 and isinstance(exits[0], RuntimeError)
