"""``bench.data`` builds a history the schema accepts: as many appointments as asked, none
overlapping for a clinician, statuses that agree with time, the rollup filled."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg

from bench.data import build
from bench.harness import create_database, drop_database

APPOINTMENTS = 3_000


def test_a_small_history_loads_with_every_constraint_in_place() -> None:
    name = f"panda_test_data_{uuid.uuid4().hex[:8]}"
    now = dt.datetime.now(dt.UTC)
    dsn = create_database(name)
    try:
        stages = asyncio.run(build(dsn, APPOINTMENTS, seed=3, now=now))
        assert len(stages) == 5
        facts = asyncio.run(_facts(dsn, now))
    finally:
        drop_database(name)
    assert facts["appointments"] == APPOINTMENTS
    assert facts["overlaps"] == 0
    assert facts["settled_in_future"] == 0, "attended or missed only once ended"
    assert facts["active_in_past"] == 0, "nothing left for the sweep"
    assert 0 < facts["missed"] < facts["attended"]
    assert facts["rollup_appointments"] == facts["attended"] + facts["missed"]


async def _facts(dsn: str, now: dt.datetime) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            """SELECT count(*) AS appointments,
                      count(*) FILTER (WHERE status IN ('attended', 'missed') AND ends_at > $1) AS settled_in_future,
                      count(*) FILTER (WHERE status = 'active' AND ends_at <= $1) AS active_in_past,
                      count(*) FILTER (WHERE status = 'missed') AS missed,
                      count(*) FILTER (WHERE status = 'attended') AS attended
               FROM appointment""",
            now,
        )
        overlaps = await connection.fetchval(
            """SELECT count(*) FROM appointment a JOIN appointment b
               ON a.clinician_id = b.clinician_id AND a.id < b.id
              AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"""
        )
        rollup = await connection.fetchval(ROLLUP_TOTAL)
    finally:
        await connection.close()
    return {**dict(row), "overlaps": int(overlaps), "rollup_appointments": int(rollup or 0)}


ROLLUP_TOTAL = "SELECT sum(appointments) FROM appointment_day_total"
