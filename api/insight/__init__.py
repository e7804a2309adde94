"""The insight page: missed-appointment impact as server-rendered HTML and SVG (no JavaScript)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.insight.charts import month_axis, monthly_chart, top_chart
from domain.rules.periods import Period, london_date, period_start
from domain.services.analytics import MissedQuery, Overview

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Inline styles only, no script, nothing fetched: the page works offline and prints as it shows.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"


@dataclass(frozen=True)
class ShownFilters:
    """The filters as the form shows them back (London dates)."""

    start_from: str | None
    start_to: str | None
    department: str | None


def render_insight_page(overview: Overview, query: MissedQuery) -> str:
    """The whole page for ``query``'s range and department."""
    first = period_start(query.start_from, Period.MONTH) if query.start_from else None
    last = period_start(query.start_to - dt.timedelta(microseconds=1), Period.MONTH) if query.start_to else None
    months = month_axis(overview.monthly_by_department, first, last)
    filters = ShownFilters(
        start_from=london_date(query.start_from).isoformat() if query.start_from else None,
        start_to=london_date(query.start_to).isoformat() if query.start_to else None,
        department=query.department,
    )
    return _TEMPLATES.get_template("insight.html.j2").render(
        filters=filters,
        range_text=_range_text(filters),
        departments=overview.departments,
        monthly=monthly_chart(overview.monthly_by_department, months),
        top=top_chart(overview.top_clinicians),
    )


def _range_text(filters: ShownFilters) -> str:
    if filters.start_from and filters.start_to:
        return f"from {filters.start_from} until {filters.start_to}"
    if filters.start_from:
        return f"from {filters.start_from}"
    if filters.start_to:
        return f"until {filters.start_to}"
    return ""
