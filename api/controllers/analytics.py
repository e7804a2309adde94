"""``/analytics/missed``: how much clinician time missed appointments waste."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api.access import requires
from api.dependencies import provide_analytics
from api.routes import get
from domain.auth.access import Access
from domain.services.analytics import AnalyticsService, MissedReport, missed_query


class AnalyticsController(Controller):
    """Reports computed by the database from the stored appointments."""

    path = "/analytics"
    tags = ["analytics"]
    dependencies = {"analytics": provide_analytics}

    @get("/missed", guards=[requires(Access.OPERATIONS)])
    async def missed(
        self,
        analytics: NamedDependency[AnalyticsService],
        group_by: Annotated[str | None, QueryParameter(description="clinician or department (default).")] = None,
        period: Annotated[
            str | None, QueryParameter(description="day, week or month (default), in Europe/London.")
        ] = None,
        start_from: Annotated[
            str | None, QueryParameter(name="from", description="Start ≥ this instant, or this London date.")
        ] = None,
        start_to: Annotated[
            str | None, QueryParameter(name="to", description="Start < this instant, or this London date.")
        ] = None,
    ) -> MissedReport:
        """Appointments, missed ones and missed minutes per group and London calendar period.

        At most 10,000 items (groups × periods): a report that would hold more is refused with 400
        `range.too_long`; narrow `from`/`to` or choose a longer `period`.
        """
        return await analytics.missed(missed_query(group_by, period, start_from, start_to))
