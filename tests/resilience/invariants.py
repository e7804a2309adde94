"""What must hold in the database after any load or fault, checked in SQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from tests.resilience.traffic import Ledger

OVERLAPPING_ACTIVE = """
SELECT count(*) FROM appointment a JOIN appointment b
  ON a.id < b.id AND a.status = 'active' AND b.status = 'active'
 AND (a.clinician_id = b.clinician_id OR a.patient_id = b.patient_id)
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""
SENT_FOR_CANCELLED = """
SELECT r.appointment_id::text AS appointment_id, r.sent_at, a.updated_at
  FROM reminder r JOIN appointment a ON a.id = r.appointment_id
 WHERE a.status = 'cancelled' AND r.status = 'sent'
"""
DUE_AND_WAITING = "SELECT count(*) FROM reminder WHERE status = 'scheduled' AND due_at <= now()"


def plain_dsn(url: str) -> str:
    """asyncpg's DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Run one query on the database at ``url``."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def overlapping_active(url: str) -> int:
    """Pairs of active appointments of one clinician or one patient that overlap (must be 0)."""
    return int((await fetch(url, OVERLAPPING_ACTIVE))[0][0])


async def reminders_sent_after_cancellation(url: str, ledger: Ledger) -> list[str]:
    """Appointments whose reminder was sent after the API acknowledged their cancellation.

    A reminder sent before the cancellation is history, not a fault. The cancellation's moment
    is when its 200 arrived (it was committed by then); without one, the row's ``updated_at``.
    """
    late = []
    for row in await fetch(url, SENT_FOR_CANCELLED):
        acknowledged = ledger.cancelled_at.get(row["appointment_id"])
        cancelled = dt.datetime.fromtimestamp(acknowledged, dt.UTC) if acknowledged is not None else row["updated_at"]
        if row["sent_at"] > cancelled:
            late.append(row["appointment_id"])
    return late


async def lost_writes(url: str, ledger: Ledger) -> dict[str, list[str]]:
    """Acknowledged writes the database does not hold: patients, bookings, and cancellations undone."""
    patients = {r[0] for r in await fetch(url, "SELECT nhs_number FROM patient WHERE nhs_number = ANY($1)",
                                          sorted(ledger.patients))}  # fmt: skip
    stored = await fetch(url, "SELECT id::text, status FROM appointment WHERE id::text = ANY($1)",
                         sorted(ledger.appointments | ledger.cancelled_at.keys()))  # fmt: skip
    statuses = {row[0]: row[1] for row in stored}
    return {
        "patients": sorted(ledger.patients - patients),
        "appointments": sorted(ledger.appointments - statuses.keys()),
        "cancellations": sorted(i for i in ledger.cancelled_at if statuses.get(i) != "cancelled"),
    }


async def wait_for_due_reminders(url: str, timeout: float) -> int:
    """Wait until no reminder that is due waits to be sent; return how many still wait."""
    deadline = time.monotonic() + timeout
    waiting = -1
    while time.monotonic() < deadline:
        waiting = int((await fetch(url, DUE_AND_WAITING))[0][0])
        if waiting == 0:
            break
        await asyncio.sleep(0.5)
    return waiting
