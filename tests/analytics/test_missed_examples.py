"""The client's example data: the report agrees with counts made directly from the shipped files."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest

from panda.examples import example_rows, load_examples

LONDON = ZoneInfo("Europe/London")


def minutes(duration: str) -> int:
    """The example files' ``1h30m`` style, parsed independently of PANDA's rule."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?", duration)
    assert match and duration, duration
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def expected_from_files(key: str, now: dt.datetime) -> dict[tuple[str, str], Counter[str]]:
    """(group, London month) → appointments, missed, missed minutes, straight from the JSON."""
    totals: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in example_rows("example_appointments.json"):
        start = dt.datetime.fromisoformat(row["time"])
        length = minutes(row["duration"])
        status = row["status"]
        if status == "active" and start + dt.timedelta(minutes=length) <= now:
            status = "missed"
        if status not in {"attended", "missed"}:
            continue
        month = start.astimezone(LONDON).date().replace(day=1).isoformat()
        counts = totals[(row[key], month)]
        counts["appointments"] += 1
        if status == "missed":
            counts["missed"] += 1
            counts["missed_minutes"] += length
    return totals


@pytest.fixture
async def loaded(sessions) -> None:
    outcome = await load_examples(sessions)
    assert outcome["patients"] == Counter(stored=100)
    assert outcome["appointments"] == Counter(stored=100)


def by_group(items: list[dict[str, object]]) -> dict[str, Counter[str]]:
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for entry in items:
        for measure in ("appointments", "missed", "missed_minutes"):
            totals[str(entry["group"])][measure] += int(entry[measure])  # type: ignore[call-overload]
    return dict(totals)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("group_by", ["department", "clinician"])
async def test_monthly_report_matches_the_files(client, group_by) -> None:
    now = dt.datetime.now(dt.UTC)
    response = await client.get("/analytics/missed", params={"group_by": group_by, "period": "month"})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    expected = expected_from_files(group_by, now)
    assert {(i["group"], i["period_start"]): i["missed"] for i in items} == {
        k: c["missed"] for k, c in expected.items()
    }
    assert {(i["group"], i["period_start"]): i["missed_minutes"] for i in items} == {
        k: c["missed_minutes"] for k, c in expected.items()
    }
    assert {(i["group"], i["period_start"]): i["appointments"] for i in items} == {
        k: c["appointments"] for k, c in expected.items()
    }
    for entry in items:
        assert entry["missed_rate"] == pytest.approx(entry["missed"] / entry["appointments"])


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("group_by", ["department", "clinician"])
async def test_every_period_adds_up_to_the_same_totals_per_group(client, group_by) -> None:
    now = dt.datetime.now(dt.UTC)
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    for (group, _month), counts in expected_from_files(group_by, now).items():
        per_group[group].update(counts)
    assert sum(c["missed"] for c in per_group.values()) > 10  # the files do hold missed appointments
    for period in ("day", "week", "month"):
        response = await client.get("/analytics/missed", params={"group_by": group_by, "period": period})
        assert by_group(response.json()["items"]) == per_group, period
