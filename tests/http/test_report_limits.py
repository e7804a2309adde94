"""Unbounded outputs and scans: the missed report's item cap, and name search on a trigram index."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from domain.rules import search_key
from domain.services import analytics
from domain.services.patients import PATIENT, escape_like
from tests.factories import nhs_number
from tests.http.helpers import book, create_patient

DAYS = 3


@pytest.fixture
async def daily_items(client) -> int:
    """One past missed appointment on each of ``DAYS`` London days: that many clinician × day items."""
    await create_patient(client, nhs_number(40))
    for day in range(DAYS):
        start = dt.datetime(2025, 5, 5 + day, 10, tzinfo=dt.UTC)
        await book(client, nhs_number(40), start, status="missed", clinician="Dr Cap", department="Cardiology")
    return DAYS


async def test_a_report_longer_than_the_cap_is_400_range_too_long(client, daily_items, monkeypatch) -> None:
    query = "/analytics/missed?group_by=clinician&period=day"
    monkeypatch.setattr(analytics, "MAX_REPORT_ITEMS", daily_items)
    assert len((await client.get(query)).json()["items"]) == daily_items, "exactly the cap is answered"

    monkeypatch.setattr(analytics, "MAX_REPORT_ITEMS", daily_items - 1)
    response = await client.get(query, headers={"Accept-Language": "fr"})

    assert response.status_code == 400
    assert response.headers["content-language"] == "fr"
    problem = response.json()
    assert problem["code"] == "range.too_long"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("to", "range.too_long")]
    assert str(daily_items - 1) in problem["errors"][0]["message"]


def test_the_documented_cap() -> None:
    assert analytics.MAX_REPORT_ITEMS == 10_000


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_name_search_can_use_the_trigram_index(engine) -> None:
    rows = [
        {"nhs_number": nhs_number(i), "name": f"Patient {i:05d}", "name_search": search_key(f"Patient {i:05d}")}
        for i in range(3000)
    ]
    wanted = f"%{escape_like(search_key('ient 0042'))}%"
    statement = select(PATIENT.c.nhs_number).where(PATIENT.c.name_search.like(wanted, escape="\\"))
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO patient (nhs_number, name, name_search, date_of_birth, postcode, created_at, updated_at)"
                " SELECT n, nm, ns, DATE '1970-01-01', 'N1 9GU', now(), now()"
                " FROM unnest(CAST(:numbers AS text[]), CAST(:names AS text[]), CAST(:keys AS text[])) AS t(n, nm, ns)"
            ),
            {
                "numbers": [r["nhs_number"] for r in rows],
                "names": [r["name"] for r in rows],
                "keys": [r["name_search"] for r in rows],
            },
        )
        await connection.execute(text("ANALYZE patient"))
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = statement.compile(connection.sync_connection, compile_kwargs={"literal_binds": True})
        plan = "\n".join((await connection.execute(text(f"EXPLAIN {compiled}"))).scalars())
        found = (await connection.execute(statement)).scalars().all()

    assert "ix_patient_name_search_trgm" in plan, plan
    assert len(found) == 10  # Patient 00420 … 00429
