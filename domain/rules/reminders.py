"""Reminder planning: which reminders an appointment gets, and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def plan_reminders(start: dt.datetime, now: dt.datetime, offsets_minutes: Iterable[int]) -> list[dt.datetime]:
    """Due times ``start - offset`` for each offset, earliest first, leaving out those already past."""
    due_times = {start - dt.timedelta(minutes=offset) for offset in offsets_minutes}
    return sorted(due for due in due_times if due > now)
