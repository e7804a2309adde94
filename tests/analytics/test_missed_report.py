"""``GET /analytics/missed`` on hand-computed data: London periods across DST, erasure, cancellations."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import update

from domain.models import Appointment
from tests.factories import nhs_number, now
from tests.http.helpers import assert_problem, book, create_patient, field_codes

UTC = dt.UTC
P0, P1, P2 = nhs_number(10), nhs_number(11), nhs_number(12)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
async def ids(client, engine) -> dict[str, str]:
    """Seven past appointments (and one future one) whose report is computed by hand below.

    #2 starts 2025-03-31 23:30 UTC, which is 00:30 on 1 April in London (BST): April, not March.
    #3 starts 00:30 UTC on 30 March 2025, half an hour before the clocks went forward: March.
    #5 is stored ``active`` although it has ended, as before the sweep runs: it counts as missed.
    P2 owns #6 and #7 and is erased by some tests.
    """
    for number in (P0, P1, P2):
        await create_patient(client, number)
    plan = {
        "1": (P0, "attended", "2025-03-10T10:00:00+00:00", "30m", "Dr Ada", "Cardiology"),
        "2": (P0, "missed", "2025-03-31T23:30:00+00:00", "45m", "Dr Ada", "cardiology"),
        "3": (P1, "missed", "2025-03-30T00:30:00+00:00", "1h", "Dr Bea", "cardiology"),
        "4": (P1, "cancelled", "2025-03-12T09:00:00+00:00", "30m", "Dr Ada", "cardiology"),
        "5": (P1, "active", "2025-04-15T10:00:00+01:00", "1h30m", "dr bea", "Oncology"),
        "6": (P2, "attended", "2025-04-20T13:00:00+00:00", "15m", "Dr Bea", "oncology"),
        "7": (P2, "missed", "2025-04-22T13:00:00+00:00", "2h", "Dr Bea", "oncology"),
    }
    made = {}
    for key, (patient, status, time, duration, clinician, department) in plan.items():
        view = await book(
            client, patient, at(time), status=status, duration=duration, clinician=clinician, department=department
        )
        made[key] = view["id"]
    future = await book(client, P0, now() + dt.timedelta(days=30), clinician="Dr Ada", department="cardiology")
    made["future"] = future["id"]
    async with engine.begin() as connection:
        table = Appointment.__table__
        await connection.execute(update(table).where(table.c.id == uuid.UUID(made["5"])).values(status="active"))
    return made


def item(group: str, period: str, appointments: int, missed: int, minutes: int) -> dict[str, object]:
    return {
        "group": group,
        "period_start": period,
        "appointments": appointments,
        "missed": missed,
        "missed_minutes": minutes,
        "missed_rate": pytest.approx(missed / appointments),
    }


async def report(client, **params: str) -> list[dict[str, object]]:
    response = await client.get("/analytics/missed", params=params)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items"}
    return list(response.json()["items"])


@pytest.mark.usefixtures("ids")
async def test_by_department_and_london_month(client) -> None:
    assert await report(client, group_by="department", period="month") == [
        item("Cardiology", "2025-03-01", 2, 1, 60),
        item("Cardiology", "2025-04-01", 1, 1, 45),
        item("Oncology", "2025-04-01", 3, 2, 210),
    ]


@pytest.mark.usefixtures("ids")
async def test_by_clinician_and_month(client) -> None:
    assert await report(client, group_by="clinician", period="month") == [
        item("Dr Ada", "2025-03-01", 1, 0, 0),
        item("Dr Bea", "2025-03-01", 1, 1, 60),
        item("Dr Ada", "2025-04-01", 1, 1, 45),
        item("Dr Bea", "2025-04-01", 3, 2, 210),
    ]


@pytest.mark.usefixtures("ids")
async def test_weeks_start_on_a_london_monday(client) -> None:
    assert await report(client, group_by="department", period="week") == [
        item("Cardiology", "2025-03-10", 1, 0, 0),
        item("Cardiology", "2025-03-24", 1, 1, 60),  # Sunday 30 March, 00:30 GMT
        item("Cardiology", "2025-03-31", 1, 1, 45),  # Tuesday 1 April, 00:30 BST
        item("Oncology", "2025-04-14", 2, 1, 90),
        item("Oncology", "2025-04-21", 1, 1, 120),
    ]


@pytest.mark.usefixtures("ids")
async def test_days_are_london_days(client) -> None:
    days = await report(client, group_by="clinician", period="day", **{"from": "2025-03-30", "to": "2025-04-02"})
    assert days == [item("Dr Bea", "2025-03-30", 1, 1, 60), item("Dr Ada", "2025-04-01", 1, 1, 45)]


@pytest.mark.usefixtures("ids")
async def test_a_date_bound_is_london_midnight_and_a_timestamp_is_exact(client) -> None:
    london = await report(client, group_by="department", **{"from": "2025-04-01"})
    assert [(i["group"], i["appointments"]) for i in london] == [("Cardiology", 1), ("Oncology", 3)]
    utc = await report(client, group_by="department", **{"from": "2025-04-01T00:00:00+00:00"})
    assert [(i["group"], i["appointments"]) for i in utc] == [("Oncology", 3)]
    before = await report(client, group_by="department", to="2025-04-01T00:30:00+01:00")
    assert [(i["period_start"], i["appointments"]) for i in before] == [("2025-03-01", 2)]


async def test_erasing_a_patient_leaves_the_report_unchanged(client, ids) -> None:
    before = await report(client, group_by="clinician", period="week")
    assert (await client.delete(f"/patients/{P2}")).status_code == 204
    assert (await client.get(f"/appointments/{ids['7']}")).json()["patient"] is None
    assert await report(client, group_by="clinician", period="week") == before


async def test_cancelled_and_unfinished_appointments_are_not_counted(client, ids) -> None:
    assert (await client.patch(f"/appointments/{ids['future']}", json={"status": "cancelled"})).status_code == 200
    everything = await report(client, group_by="clinician", period="month")
    assert sum(i["appointments"] for i in everything) == 6  # 8 booked, less #4 (cancelled) and the future one
    assert sum(i["missed"] for i in everything) == 4


@pytest.mark.usefixtures("ids")
@pytest.mark.parametrize(
    "bounds",
    [{"from": "2024-01-01", "to": "2024-02-01"}, {"from": "2025-04-01", "to": "2025-04-01"}, {"from": "2030-01-01"}],
)
async def test_ranges_without_ended_appointments_are_empty(client, bounds) -> None:
    assert await report(client, **bounds) == []


async def test_an_empty_database_reports_nothing(client) -> None:
    for group_by in ("clinician", "department"):
        for period in ("day", "week", "month"):
            assert await report(client, group_by=group_by, period=period) == []


async def test_defaults_are_department_and_month(client, ids) -> None:
    assert await report(client) == await report(client, group_by="department", period="month")


async def test_bad_parameters_are_all_named_in_one_problem(client) -> None:
    response = await client.get(
        "/analytics/missed",
        params={"group_by": "patient", "period": "year", "from": "yesterday", "to": "2025-01-01T00:00:00"},
    )
    problem = assert_problem(response, 400)
    assert field_codes(problem) == {
        "group_by": "group_by.invalid",
        "period": "period.invalid",
        "from": "from.date_or_time",
        "to": "to.offset_required",
    }


async def test_a_range_that_ends_before_it_starts_is_refused_in_welsh(client) -> None:
    response = await client.get(
        "/analytics/missed", params={"from": "2025-05-01", "to": "2025-04-01"}, headers={"Accept-Language": "cy"}
    )
    problem = assert_problem(response, 400, "range.order")
    assert response.headers["content-language"] == "cy"
    assert problem["errors"][0]["field"] == "to"
