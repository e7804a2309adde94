"""A request leaves nothing for the garbage collector: its objects are freed when it ends.

Objects caught in a reference cycle wait for a collection, and the API's young-generation
threshold is raised (``api.app.GC_YOUNG_THRESHOLD``) on the strength of requests making none: a
cycle per request would bring back the collector's pauses. The audit trail was one (its path
reader refers to the scope that holds it); this keeps it from coming back on the hot paths.
An error answer is another matter: the exception raised for it holds its traceback's frames, a
cycle Python itself makes, so those requests are left out.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.audit.events import AuditTrail

PATIENT = {"nhs_number": "9434765919", "name": "Ann Other", "date_of_birth": "1970-01-01", "postcode": "N1 9GU"}


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable while the test runs (kept, not freed)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_successful_audited_requests_leave_no_audit_trail_in_a_cycle(
    client: AsyncTestClient[Litestar], saved_garbage: list[object]
) -> None:
    assert (await client.post("/patients", json=PATIENT)).status_code == 201
    booking = {"patient": PATIENT["nhs_number"], "time": "2040-01-02T09:00:00+00:00", "duration": "15m",
               "clinician": "Dr Cycle", "department": "Cardiology", "postcode": "N1 9GU"}  # fmt: skip
    created = await client.post("/appointments", json=booking)
    assert created.status_code == 201
    for _ in range(20):
        assert (await client.get(f"/patients/{PATIENT['nhs_number']}")).status_code == 200
        assert (await client.get(f"/appointments/{created.json()['id']}")).status_code == 200
    gc.collect()
    trails = [o for o in saved_garbage if isinstance(o, AuditTrail)]
    assert trails == [], f"{len(trails)} audit trails were freed by the collector, not when their request ended"
