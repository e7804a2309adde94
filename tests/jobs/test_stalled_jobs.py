"""A job whose work a dead worker took with it is found by its lack of progress, and only then.

The scheduler's ``resume_stalled`` task sends such a job's remaining chunks again; a job that
made progress lately, or was resumed lately, is left to the workers that have it.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.clock import utcnow
from domain.jobs import runner
from domain.rules.reminders import ReminderPolicy
from tests.factories import nhs_number
from tests.jobs.conftest import CHUNK_ROWS
from tests.jobs.helpers import encode, post_job

STALL = dt.timedelta(minutes=5)


def _patients(count: int) -> list[dict[str, str]]:
    return [
        {"nhs_number": nhs_number(i), "name": f"Stalled {i}", "date_of_birth": "1970-01-01", "postcode": "N1 9GU"}
        for i in range(count)
    ]


async def test_only_a_job_without_recent_progress_is_resumed(client, sessions, settings, monkeypatch) -> None:
    job = await post_job(client, "patients", "import", encode(_patients(3 * CHUNK_ROWS), "csv"))
    job_id = uuid.UUID(job["id"])
    chunks = await runner.plan_job(sessions, job_id, settings)
    assert len(chunks) == 3
    await runner.run_chunk(
        sessions, job_id, chunks[0], ReminderPolicy()
    )  # one chunk done; a dead worker held the others

    assert await runner.unfinished_work(sessions, STALL) == [], "progress a moment ago: not stalled"

    later = utcnow() + STALL + dt.timedelta(seconds=1)
    monkeypatch.setattr(runner, "utcnow", lambda: later)
    assert await runner.unfinished_work(sessions, STALL) == [(job_id, chunks[1:])]
    assert await runner.unfinished_work(sessions, STALL) == [], "just resumed: not again until it stalls anew"

    monkeypatch.setattr(runner, "utcnow", lambda: later + STALL + dt.timedelta(seconds=1))
    assert await runner.unfinished_work(sessions, STALL) == [(job_id, chunks[1:])]


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_job_never_planned_is_resumed_once_stalled(client, sessions, monkeypatch) -> None:
    job = await post_job(client, "patients", "validate", encode(_patients(2), "csv"))
    later = utcnow() + STALL + dt.timedelta(seconds=1)
    monkeypatch.setattr(runner, "utcnow", lambda: later)
    assert await runner.unfinished_work(sessions, STALL) == [(uuid.UUID(job["id"]), None)]
