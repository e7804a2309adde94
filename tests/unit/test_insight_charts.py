"""Insight charts: readable axes, accessible colours, every month shown, valid and escaped SVG."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from api.insight import render_insight_page
from api.insight.charts import OTHER, PALETTE, month_axis, monthly_chart, nice_ceiling, top_chart
from domain.services.analytics import MissedItem, MissedQuery, Overview

SVG_NS = "{http://www.w3.org/2000/svg}"


def item(group: str, month: str, minutes: int, missed: int = 1, appointments: int = 2) -> MissedItem:
    return MissedItem(group, month, appointments, missed, minutes, missed / appointments)


def relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("colour", PALETTE)
def test_every_series_colour_contrasts_with_the_white_page(colour: str) -> None:
    assert (1.05) / (relative_luminance(colour) + 0.05) >= 3.0


def test_palette_colours_are_distinct() -> None:
    assert len(set(PALETTE)) == len(PALETTE)


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (1, 1), (7, 10), (10, 10), (11, 20), (199, 200), (201, 500)])
def test_axis_maximum_is_a_round_number(value: float, expected: int) -> None:
    assert nice_ceiling(value) == expected


def test_months_without_missed_time_still_appear() -> None:
    items = [item("a", "2025-01-01", 30), item("a", "2025-04-01", 60)]
    assert [m.isoformat() for m in month_axis(items, None, None)] == [
        "2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01",
    ]  # fmt: skip
    chosen = month_axis(items, dt.date(2024, 12, 1), dt.date(2025, 5, 1))
    assert chosen[0] == dt.date(2024, 12, 1) and chosen[-1] == dt.date(2025, 5, 1) and len(chosen) == 6
    assert month_axis([], None, None) == []


def test_an_open_ended_range_is_clamped_to_the_data() -> None:
    items = [item("a", "2025-01-01", 30)]
    assert month_axis(items, dt.date(1900, 1, 1), dt.date(2100, 1, 1)) == [dt.date(2025, 1, 1)]


def test_stacked_bars_add_up_and_extra_departments_are_merged() -> None:
    names = [f"dept {i}" for i in range(len(PALETTE) + 2)]
    items = [item(name, "2025-01-01", 10 * (index + 1)) for index, name in enumerate(names)]
    chart = monthly_chart(items, [dt.date(2025, 1, 1)])
    assert len(chart.series) == len(PALETTE) and chart.series[-1] == OTHER
    assert chart.total == sum(10 * (i + 1) for i in range(len(names)))
    assert chart.table == [("2025-01", chart.table[0][1], chart.total)]
    assert sum(chart.table[0][1]) == chart.total
    tallest = chart.plot_height * chart.total / nice_ceiling(chart.total)
    assert sum(s.height for s in chart.segments) == pytest.approx(tallest, abs=0.1)


def test_top_bars_scale_to_the_longest() -> None:
    chart = top_chart([item("Dr Long", "", 300), item("Dr Short", "", 100)])
    assert chart.bars[0].width == pytest.approx(3 * chart.bars[1].width, abs=0.05)
    assert chart.bars[0].value_text == "300 min (1 of 2 missed)"


def page(overview: Overview, query: MissedQuery | None = None) -> str:
    return render_insight_page(overview, query or MissedQuery())


def svgs(html: str) -> list[ET.Element]:
    found = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    return [ET.fromstring(text) for text in found]


def test_the_page_svg_is_valid_xml_and_names_are_escaped() -> None:
    awkward = 'A&E <Majors> "Resus"'
    overview = Overview(
        monthly_by_department=[item(awkward, "2025-01-01", 30), item("Siân's ward", "2025-03-01", 45)],
        top_clinicians=[item("Dr Ŵyn O'Brien & Partner <locum>", "", 75)],
        departments=[awkward, "Siân's ward"],
    )
    html = page(overview)
    charts = svgs(html)
    assert len(charts) == 2
    for chart in charts:
        assert chart.get("role") == "img"
        assert chart.find(f"{SVG_NS}title").text
        assert chart.find(f"{SVG_NS}desc").text
    titles = [t.text for t in charts[0].iter(f"{SVG_NS}title")]
    assert f"{awkward}, 2025-01: 30 missed minutes" in titles
    assert "<Majors>" not in html and "&lt;Majors&gt;" in html
    assert "<script" not in html.lower()


def test_an_empty_range_says_so_instead_of_drawing() -> None:
    html = page(Overview(monthly_by_department=[], top_clinicians=[], departments=[]))
    assert svgs(html) == []
    assert "nothing was missed" in html and "No clinician had a missed appointment" in html
