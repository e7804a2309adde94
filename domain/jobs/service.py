"""Bulk-job use cases of the API: record an upload as a job, show it, page its errors, cancel it."""

from __future__ import annotations

import uuid
from pathlib import Path

from domain.audit.events import AuditTrail, record
from domain.clock import utcnow
from domain.errors import Conflict, NotFound
from domain.jobs import store
from domain.jobs.files import remove_upload
from domain.jobs.formats import Format, JobStatus, Kind, Mode
from domain.jobs.views import JobErrorView, JobView, job_error_view, job_view
from domain.rules.ids import parse_uuid
from domain.schemas import Page
from domain.sql import SqlRunner


def parse_job_id(raw: str) -> uuid.UUID:
    """A path id that is not a UUID names no job: 404."""
    return parse_uuid(raw, "job.not_found")


class JobService:
    """Jobs as the API sees them, on a SQLAlchemy session or a raw driver connection."""

    def __init__(self, sql: SqlRunner, audit: AuditTrail | None = None) -> None:
        self.sql = sql
        self.audit = audit  # the request's audit event (None outside a request)

    async def create(
        self, job_id: uuid.UUID, kind: Kind, mode: Mode, fmt: Format, path: Path, size: int, language: str
    ) -> JobView:
        """Record a stored upload as a ``queued`` job."""
        now = utcnow()
        await store.create_job(
            self.sql,
            {
                "id": job_id,
                "kind": kind.value,
                "mode": mode.value,
                "status": JobStatus.QUEUED.value,
                "format": fmt.value,
                "path": str(path),
                "size": size,
                "plan_lost_runs": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        await record(self.audit, self.sql, resource_id=str(job_id))
        return await self.read(str(job_id), language)

    async def read(self, raw_id: str, language: str) -> JobView:
        """The job's state and progress."""
        row = await store.job_with_counts(self.sql, parse_job_id(raw_id))
        if row is None:
            raise NotFound("job.not_found")
        return job_view(row, language)

    async def errors(self, raw_id: str, limit: int, offset: int, language: str) -> Page[JobErrorView]:
        """The job's rejected rows, by row number."""
        job_id = parse_job_id(raw_id)
        if await store.job_status(self.sql, job_id) is None:
            raise NotFound("job.not_found")
        rows, total = await store.error_page(self.sql, job_id, limit, offset)
        return Page(items=[job_error_view(r, language) for r in rows], total=total, limit=limit, offset=offset)

    async def cancel(self, raw_id: str, language: str) -> JobView:
        """Stop a queued or running job; chunks already stored stay stored and counted."""
        job_id = parse_job_id(raw_id)
        # Waits for chunks being written (they hold a shared lock on the job): none stores after this.
        cancelled = await store.set_status(self.sql, job_id, JobStatus.CANCELLED, utcnow())
        job = await store.job_row(self.sql, job_id)
        if job is None:
            raise NotFound("job.not_found")
        if not cancelled and job["status"] != JobStatus.CANCELLED:
            raise Conflict("job.not_cancellable", status=job["status"])
        if cancelled:
            await store.forget_keys(self.sql, job_id)
            remove_upload(job["path"], job["format"])
        return await self.read(str(job_id), language)
