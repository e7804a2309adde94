"""HTTP helpers: create records through the API and assert on problem documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from httpx import Response

from tests.factories import appointment_body, patient_body

PROBLEM_JSON = "application/problem+json"


async def create_patient(client: Any, number: str, **overrides: Any) -> dict[str, Any]:
    """POST a patient and return its view (fails the test unless 201)."""
    response = await client.post("/patients", json=patient_body(number, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def book(client: Any, patient: str, start: dt.datetime, **overrides: Any) -> dict[str, Any]:
    """POST an appointment and return its view (fails the test unless 201)."""
    response = await client.post("/appointments", json=appointment_body(patient, start, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_problem(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status (and code)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    assert response.headers.get("content-language"), "every error response carries Content-Language"
    problem = dict(response.json())
    for member in ("type", "title", "status", "detail", "code"):
        assert problem.get(member), f"problem document lacks {member!r}: {problem}"
    assert problem["status"] == status
    if code is not None:
        assert problem["code"] == code, problem
    return problem


def field_codes(problem: dict[str, Any]) -> dict[str, str]:
    """``{field: code}`` of a 400's ``errors`` list; every entry has a message."""
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, problem
    for error in errors:
        assert set(error) >= {"field", "code", "message"}, error
        assert error["message"], error
    return {error["field"]: error["code"] for error in errors}
