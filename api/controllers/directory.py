"""``/clinicians`` and ``/departments``: the entities, with appointment counts."""

from __future__ import annotations

from litestar import Controller
from litestar.di import NamedDependency

from api.access import requires
from api.dependencies import provide_clinicians, provide_departments
from api.params import Limit, Offset
from api.routes import get
from domain.auth.access import Access
from domain.paging import parse_page
from domain.schemas import DirectoryEntryView, Page
from domain.services.directory import DirectoryService


class DirectoryController(Controller):
    """Clinicians and departments are created on first use by bookings."""

    tags = ["directory"]
    dependencies = {"clinicians": provide_clinicians, "departments": provide_departments}

    @get("/clinicians", guards=[requires(Access.DIRECTORY_READ)])
    async def list_clinicians(
        self, clinicians: NamedDependency[DirectoryService], limit: Limit = None, offset: Offset = None
    ) -> Page[DirectoryEntryView]:
        """Clinicians by name, with how many appointments each has."""
        page = parse_page(limit, offset)
        return await clinicians.list_with_counts(page.limit, page.offset)

    @get("/departments", guards=[requires(Access.DIRECTORY_READ)])
    async def list_departments(
        self, departments: NamedDependency[DirectoryService], limit: Limit = None, offset: Offset = None
    ) -> Page[DirectoryEntryView]:
        """Departments by name, with how many appointments each has."""
        page = parse_page(limit, offset)
        return await departments.list_with_counts(page.limit, page.offset)
