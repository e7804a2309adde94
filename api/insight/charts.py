"""Chart geometry for the insight page: plain numbers that the SVG templates draw.

Geometry lives here (testable, no markup); the markup lives in ``templates/``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from domain.services.analytics import MissedItem

# Each colour has at least 3:1 contrast against white (WCAG 1.4.11, non-text contrast);
# segments are also separated by white edges and listed in a table, so colour is never the only cue.
PALETTE = ("#1f5fa6", "#b3400b", "#1b7a4c", "#8e3b8a", "#a8191f", "#00758f", "#7a5a00", "#5c5c5c")
OTHER = "Other departments"
WIDTH = 960
LABEL_WIDTH = 220
MAX_AXIS_MONTHS = 240


@dataclass(frozen=True)
class Segment:
    """One department's part of one month's bar."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Tick:
    """An axis mark with its text."""

    position: float
    text: str


@dataclass
class MonthlyChart:
    """Stacked bars: missed minutes per month, one colour per department."""

    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_width: float
    plot_height: float
    segments: list[Segment] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    table: list[tuple[str, list[int], int]] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class Bar:
    """One clinician's horizontal bar."""

    y: float
    width: float
    label: str
    full_label: str
    value_text: str


@dataclass
class TopChart:
    """Horizontal bars: the clinicians with the most missed minutes."""

    width: int
    height: int
    bar_left: float
    bar_height: float
    bars: list[Bar] = field(default_factory=list)


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ not below ``value`` (at least 1), for a readable axis."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)


def month_axis(items: list[MissedItem], first: dt.date | None, last: dt.date | None) -> list[dt.date]:
    """Every month from ``first`` to ``last`` (defaults: the data's extent), so gaps show as zero."""
    starts = sorted({dt.date.fromisoformat(item.period_start) for item in items})
    first = first or (starts[0] if starts else None)
    last = last or (starts[-1] if starts else None)
    if first is None or last is None:
        return []
    if _months_between(first, last) > MAX_AXIS_MONTHS:
        # An open-ended range (from=1900-01-01) would draw centuries of empty bars.
        if not starts:
            return []
        first, last = max(first, starts[0]), min(last, starts[-1])
    months = []
    current = first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + dt.timedelta(days=32)).replace(day=1)
    return months


def _months_between(first: dt.date, last: dt.date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def monthly_chart(items: list[MissedItem], months: list[dt.date], height: int = 360) -> MonthlyChart:
    """Lay out the stacked monthly bars; departments beyond the palette are merged into one series."""
    by_department: dict[str, dict[str, int]] = defaultdict(dict)
    for item in items:
        by_department[item.group][item.period_start] = item.missed_minutes
    ranked = sorted(by_department, key=lambda name: (-sum(by_department[name].values()), name))
    if len(ranked) > len(PALETTE):
        kept, merged = ranked[: len(PALETTE) - 1], ranked[len(PALETTE) - 1 :]
        other: dict[str, int] = defaultdict(int)
        for name in merged:
            for month, minutes in by_department.pop(name).items():
                other[month] += minutes
        by_department[OTHER] = dict(other)
        ranked = [*kept, OTHER]
    keys = [month.isoformat() for month in months]
    chart = MonthlyChart(WIDTH, height, plot_left=64, plot_top=16, plot_width=WIDTH - 80, plot_height=height - 80)
    chart.series = ranked
    chart.months = [key[:7] for key in keys]
    chart.legend = [(name, PALETTE[i]) for i, name in enumerate(ranked)]
    totals = [sum(by_department[name].get(key, 0) for name in ranked) for key in keys]
    chart.total = sum(totals)
    chart.table = [
        (key[:7], [by_department[name].get(key, 0) for name in ranked], totals[i])
        for i, key in enumerate(keys)
        if totals[i]
    ]
    top = nice_ceiling(max(totals, default=0))
    scale = chart.plot_height / top
    bottom = chart.plot_top + chart.plot_height
    chart.y_ticks = [Tick(bottom - top * i / 5 * scale, f"{top * i // 5:,}") for i in range(6)]
    if not keys:
        return chart
    band = chart.plot_width / len(keys)
    label_every = max(1, math.ceil(64 / band))
    for index, key in enumerate(keys):
        x = chart.plot_left + index * band + band * 0.15
        if index % label_every == 0:
            chart.x_ticks.append(Tick(x + band * 0.35, key[:7]))
        stacked = 0.0
        for series_index, name in enumerate(ranked):
            minutes = by_department[name].get(key, 0)
            if minutes == 0:
                continue
            segment_height = minutes * scale
            stacked += segment_height
            chart.segments.append(
                Segment(
                    x=round(x, 2),
                    y=round(bottom - stacked, 2),
                    width=round(band * 0.7, 2),
                    height=round(segment_height, 2),
                    colour=PALETTE[series_index],
                    label=f"{name}, {key[:7]}: {minutes:,} missed minutes",
                )
            )
    return chart


def top_chart(items: list[MissedItem], row_height: int = 28) -> TopChart:
    """Lay out one bar per clinician, longest first, scaled to the longest."""
    chart = TopChart(
        WIDTH, max(row_height * len(items) + 8, row_height), bar_left=LABEL_WIDTH, bar_height=row_height - 8
    )
    longest = max((item.missed_minutes for item in items), default=0) or 1
    usable = WIDTH - LABEL_WIDTH - 190
    for index, item in enumerate(items):
        name = item.group if len(item.group) <= 28 else item.group[:27] + "…"
        chart.bars.append(
            Bar(
                y=index * row_height + 4,
                width=round(max(item.missed_minutes / longest * usable, 1), 2),
                label=name,
                full_label=item.group,
                value_text=f"{item.missed_minutes:,} min ({item.missed} of {item.appointments} missed)",
            )
        )
    return chart
