"""The fuzzing target: ``panda api`` (two processes) on a fresh PostgreSQL database, seeded with
patients and appointments in every status so generated requests reach real records too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from domain.config import Settings
from domain.migrate import migrate
from tests.conftest import POSTGRES_ADMIN_URL, _admin
from tests.factories import appointment_body, now, patient_body, valid_nhs_numbers
from tests.resilience.stack import Stack


@dataclass
class Seeded:
    """The running API and records it holds; ``spare`` ones are for DELETE to consume."""

    base_url: str
    nhs_numbers: list[str] = field(default_factory=list)
    appointment_ids: list[str] = field(default_factory=list)
    spare_nhs_numbers: list[str] = field(default_factory=list)
    spare_appointment_ids: list[str] = field(default_factory=list)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, migrated database on the shared PostgreSQL server, dropped afterwards."""
    name = f"panda_fuzz_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _seed(client: httpx.Client, numbers: Iterator[str], patients: int, label: str) -> tuple[list[str], list[str]]:
    """Patients, each with appointments that end up active, attended, cancelled and missed."""
    nhs_numbers, appointment_ids = [], []
    start = now()
    for i in range(patients):
        number = next(numbers)
        created = client.post("/patients", json=patient_body(number, email=f"fuzz{i}@example.org"))
        assert created.status_code == 201, created.text
        nhs_numbers.append(number)
        bodies = [
            appointment_body(number, start + dt.timedelta(days=2, hours=i), clinician=f"Dr {label} {i}"),
            appointment_body(number, start - dt.timedelta(minutes=10), clinician=f"Dr {label} Now {i}"),
            appointment_body(number, start - dt.timedelta(days=3, hours=i), status="attended"),
            appointment_body(number, start + dt.timedelta(days=4, hours=i), status="cancelled"),
            appointment_body(number, start - dt.timedelta(days=5, hours=i)),  # stored as missed
        ]
        for body in bodies:
            booked = client.post("/appointments", json=body)
            assert booked.status_code == 201, booked.text
            appointment_ids.append(booked.json()["id"])
    return nhs_numbers, appointment_ids


@pytest.fixture(scope="session")
def seeded_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The API under fuzzing, with its seeded records."""
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    with fresh_database() as database_url:
        stack = Stack(workdir, database_url, f"sqla+sqlite:///{workdir}/broker.sqlite")
        try:
            base_url = stack.start_api(processes=2)
            numbers = valid_nhs_numbers(700_000_000)
            with httpx.Client(base_url=base_url, timeout=30) as client:
                seeded = Seeded(base_url)
                seeded.nhs_numbers, seeded.appointment_ids = _seed(client, numbers, 4, "Fuzz")
                seeded.spare_nhs_numbers, seeded.spare_appointment_ids = _seed(client, numbers, 4, "Spare")
            yield seeded
        finally:
            stack.stop()
