"""``/insight``: the missed-appointment charts, for people who would rather look than read."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, MediaType, Response
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.access import requires
from api.dependencies import provide_analytics
from api.insight import CONTENT_SECURITY_POLICY, render_insight_page
from api.routes import get
from domain.auth.access import Access
from domain.services.analytics import AnalyticsService, missed_query


class InsightController(Controller):
    """An HTML page with server-rendered SVG charts; no JavaScript."""

    path = "/insight"
    tags = ["analytics"]
    dependencies = {"analytics": provide_analytics}

    @get("/", media_type=MediaType.HTML, guards=[requires(Access.OPERATIONS)])
    async def insight(
        self,
        analytics: NamedDependency[AnalyticsService],
        start_from: Annotated[str | None, QueryParameter(name="from", description="London date or instant.")] = None,
        start_to: Annotated[str | None, QueryParameter(name="to", description="London date or instant.")] = None,
        department: Annotated[str | None, QueryParameter(description="Only this department.")] = None,
    ) -> Response[str]:
        """Missed minutes per month by department, and the clinicians with the most missed minutes."""
        query = missed_query("department", "month", start_from or None, start_to or None, department)
        page = render_insight_page(await analytics.overview(query), query)
        return Response(page, media_type=MediaType.HTML, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
