"""Privacy: after a full tour of the API, no process has logged any patient's personal data, and
no error has echoed it back.

A real deployment (two API processes, a worker, the scheduler, on PostgreSQL and Redis, logging
JSON at INFO as in production) serves every kind of request with distinctive patients: register,
read by NHS number in any format, search by name and postcode, correct, book, remind (sent through
the outbox), bulk-import, read as FHIR, refuse bad input of every kind, and erase. Then every
line every process wrote is searched for every form of each patient's NHS number, name, date
of birth, postcode, e-mail address and phone number. Only the server processes' own output is
read; this test's HTTP client logs nothing into it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.privacy.probe import Person, leaks, people
from tests.resilience.stack import Stack

pytestmark = pytest.mark.slow

SEND_SECONDS = 60.0


class Tour:
    """An HTTP client that keeps every error response, to check none echoes personal data."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.problems: list[dict[str, Any]] = []

    async def call(self, method: str, url: str, expect: int, **kwargs: Any) -> httpx.Response:
        """Send a request; fail unless it gets ``expect``."""
        response = await self.client.request(method, url, **kwargs)
        assert response.status_code == expect, (method, response.status_code, response.text[:300])
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/"):
            self.problems.append(response.json())
        return response


async def register_and_read(tour: Tour, persons: list[Person]) -> None:
    """Register, read back in every NHS number format, search, correct; and the refusals that go with it."""
    for person in persons:
        await tour.call("POST", "/patients", 201, json=person.body())
        number = person.nhs_number
        for form in (number, f"{number[:3]} {number[3:6]} {number[6:]}", f"{number[:3]}-{number[3:6]}-{number[6:]}"):
            await tour.call("GET", f"/patients/{form}", 200)
        await tour.call("GET", "/patients", 200, params={"name": person.tokens[0]})
        await tour.call("GET", "/patients", 200, params={"postcode": person.postcode})
        await tour.call("POST", "/patients", 409, json=person.body())
        await tour.call("PATCH", f"/patients/{number}", 200, json={"name": person.name + " Jr", "phone": person.phone})
        await tour.call("PATCH", f"/patients/{number}", 200, json={"name": person.name})
        await tour.call("GET", f"/fhir/Patient/{number}", 200)
    first = persons[0]
    bad = {
        **first.body(),
        "nhs_number": first.nhs_number[:9] + str((int(first.nhs_number[9]) + 1) % 10),
        "postcode": first.postcode + "QQ",
        "email": first.email.replace("@", "@@"),
        "phone": first.phone + "999999",
        "date_of_birth": "2999-" + first.date_of_birth[5:],
        first.tokens[0]: first.name,  # an unknown field named after the patient
    }
    await tour.call("POST", "/patients", 400, json=bad)
    await tour.call("PATCH", f"/patients/{first.nhs_number}", 400, json={"nhs_number": persons[1].nhs_number})
    await tour.call("POST", "/patients", 400, content=f'{{"name": "{first.name}", '.encode())
    await tour.call("POST", "/patients", 415, content=first.name.encode(), headers={"content-type": "text/plain"})
    await tour.call("POST", "/patients", 413, json={**first.body(), "padding": first.name * 40_000})
    await tour.call("GET", f"/patients/{first.nhs_number[:9]}0", 404)
    await tour.call("GET", f"/no/such/{first.tokens[0]}/{first.nhs_number}", 404)
    await tour.call("GET", "/patients", 400, params={"postcode": first.postcode + "QQ"})
    await tour.call("GET", "/appointments", 400, params={"patient": first.nhs_number[:9]})


async def book_and_remind(tour: Tour, persons: list[Person]) -> list[str]:
    """Book everyone about 66 s ahead (reminders 1 min before: due within seconds); clash, cancel, record history."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=66)
    ids = []
    for i, person in enumerate(persons):
        body = {
            "patient": person.body()["nhs_number"],
            "time": (start + dt.timedelta(seconds=i)).isoformat(),
            "duration": "30m",
            "clinician": f"Dr Privacy {i}",
            "department": "Audiology",
            "postcode": person.postcode,
        }
        ids.append((await tour.call("POST", "/appointments", 201, json=body)).json()["id"])
        if i:  # the first patient's clinician is busy then, and so is this patient
            clash = {**body, "clinician": "Dr Privacy 0", "time": start.isoformat()}
            await tour.call("POST", "/appointments", 409, json=clash)
        await tour.call("GET", "/appointments", 200, params={"patient": person.nhs_number})
        await tour.call("GET", f"/patients/{person.nhs_number}/appointments", 200)
        await tour.call("GET", f"/fhir/Appointment/{ids[-1]}", 200)
    await tour.call("POST", "/appointments", 400, json={**body, "patient": persons[0].nhs_number[:9] + "1" * 3})
    past = {**body, "time": "2020-01-01T09:00:00+00:00", "status": "attended", "clinician": "Dr Archive"}
    await tour.call("POST", "/appointments", 201, json=past)
    await tour.call("PATCH", f"/appointments/{ids[-1]}", 200, json={"status": "cancelled"})
    await tour.call("PATCH", f"/appointments/{ids[-1]}", 409, json={"status": "attended"})
    deadline = time.monotonic() + SEND_SECONDS
    for appointment_id in ids[:-1]:
        while (await tour.call("GET", f"/appointments/{appointment_id}/reminders", 200)).json()["items"][0][
            "status"
        ] == "scheduled":
            assert time.monotonic() < deadline, "reminders were not sent"
            await asyncio.sleep(0.5)
        outbox = (await tour.call("GET", "/outbox", 200, params={"appointment": appointment_id})).json()
        assert outbox["total"] == 1, "the reminder went through the outbox"
    return ids


async def bulk_import(tour: Tour, persons: list[Person]) -> None:
    """An import with one bad row, processed by the worker; its report read back."""
    header = "nhs_number,name,date_of_birth,postcode,email,phone"
    rows = [
        f"{p.nhs_number},{p.name} Senior,{p.date_of_birth},{p.postcode.strip()},{p.email},{p.phone}" for p in persons
    ]
    rows[0] = rows[0].replace(persons[0].date_of_birth, "2999-01-01")
    body = "\n".join([header, *rows]).encode()
    params = {"kind": "patients", "mode": "import"}
    job = (
        await tour.call("POST", "/jobs", 202, params=params, content=body, headers={"content-type": "text/csv"})
    ).json()
    deadline = time.monotonic() + SEND_SECONDS
    while (job := (await tour.call("GET", f"/jobs/{job['id']}", 200)).json())["status"] in {"queued", "running"}:
        assert time.monotonic() < deadline, "the job did not finish"
        await asyncio.sleep(0.5)
    assert job["status"] == "succeeded", job
    await tour.call("GET", f"/jobs/{job['id']}/errors", 200)


def create_key(stack: Stack) -> str:
    """``panda keys create`` on the deployment's database; the key is the last line it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "panda.cli", "keys", "create", "--name", "privacy-tour", "--role", "admin"],
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def present_bad_credentials(tour: Tour, key: str) -> list[str]:
    """Credentials that must be refused (and must not be logged either): a mistyped key, a forged token."""
    mistyped = key[:-4] + "AAAA"
    forged = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtYWxsb3J5Iiwicm9sZXMiOlsiYWRtaW4iXX0."
    for credential in (mistyped, forged):
        await tour.call("GET", "/patients", 401, headers={"Authorization": f"Bearer {credential}"})
    await tour.call("GET", "/patients", 401, headers={"Authorization": ""})
    return [mistyped, forged]


async def test_no_process_logs_patient_data(stack: Stack) -> None:
    stack.settings = {
        "REMINDER_OFFSETS": "1m",
        "JOB_CHUNK_ROWS": "2",
        "UPLOAD_DIR": str(stack.workdir / "uploads"),
        "AUTH_MODE": "on",  # SPEC §9: and no credential reaches a log either
        "API_KEY_REFRESH_SECONDS": "0.5",
    }
    base_url = stack.start_api(processes=2)
    stack.start_worker("w1", concurrency=2)
    stack.start_scheduler()
    key = create_key(stack)
    await asyncio.sleep(1)  # every API process reloads its keys
    persons = people()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:
        tour = Tour(client)
        secrets = [key, *await present_bad_credentials(tour, key)]
        await register_and_read(tour, persons)
        await book_and_remind(tour, persons)
        await bulk_import(tour, persons)
        for person in persons:
            await tour.call("DELETE", f"/patients/{person.nhs_number}", 204)
            await tour.call("GET", f"/patients/{person.nhs_number}", 404)
            await tour.call("GET", f"/fhir/Patient/{person.nhs_number}", 404)

    logged = stack.logs()
    assert len(re.findall(r'"event": ?"request"', logged)) > 100, "the API must have logged its requests"
    assert "reminders.drained" in logged, "the worker must have logged its sends"
    assert leaks(logged, persons) == {}, "personal data found in the logs"
    assert [secret for secret in secrets if secret in logged or secret[-20:] in logged] == [], "a credential was logged"

    assert len(tour.problems) > 15
    for problem in tour.problems:
        echoed = " ".join([problem.get("detail", ""), problem.get("title", "")])
        echoed += " ".join(error["message"] for error in problem.get("errors", []))
        assert leaks(echoed, persons) == {}, f"an error echoed personal data: {problem}"
