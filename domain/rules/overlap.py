"""Overlap of half-open intervals: back-to-back appointments do not clash."""

from __future__ import annotations

import datetime as dt


def intervals_overlap(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime) -> bool:
    """True when ``[a_start, a_end)`` and ``[b_start, b_end)`` share an instant."""
    return a_start < b_end and b_start < a_end
