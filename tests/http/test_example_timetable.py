"""``panda load-examples`` also loads a small timetable, so a newcomer sees free slots at once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from panda.examples import example_rows, load_example_timetable, load_examples
from tests.http.timetable import day_window, london_day


async def test_the_example_timetable_offers_slots(sessions, client) -> None:
    await load_examples(sessions)
    assert await load_example_timetable(sessions) == Counter(stored=len(example_rows("example_schedules.json")))
    assert await load_example_timetable(sessions) == Counter({"schedule.overlap": 5}), "loading twice adds nothing"
    monday = london_day(7 - london_day(0).weekday() + 7)  # the Monday after next
    week = day_window(monday) | {"to": day_window(monday + dt.timedelta(days=6))["to"]}
    slots = (await client.get("/slots", params={"department": "orthopaedics", **week, "limit": 500})).json()
    # Watson: 3 mornings x 14 + one afternoon x 7; Lewis: 4 x 9; Collins: 2 x 7.
    assert slots["total"] == 3 * 14 + 7 + 4 * 9 + 2 * 7
    assert {s["clinician"] for s in slots["items"]} == {"Alexandra Watson", "Dr Jordan Lewis", "Ms Geraldine Collins"}
