"""``/jobs``: bulk validation and import of the old system's files, run by the workers."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from litestar import Controller, Request, Response, Router
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from api.access import requires
from api.audit import audited
from api.dependencies import SqlOpener, provide_jobs, provide_opener
from api.job_queue import JobQueue
from api.params import Limit, Offset
from api.problems import LocalisedProblem
from api.routes import delete, get, post
from api.uploads import check_content_type, declared_length, may_be_json, receive_upload
from domain.audit.events import Action, ResourceType
from domain.auth.access import Access
from domain.config import Settings
from domain.db import make_engine
from domain.jobs import store
from domain.jobs.files import (
    RETRY_AFTER_SECONDS,
    TooManyUploads,
    UploadSlots,
    bytes_needed,
    sweep_orphans,
    upload_path,
    writing_upload,
)
from domain.jobs.formats import parse_job_request
from domain.jobs.service import JobService
from domain.jobs.views import JobErrorView, JobView
from domain.messages import negotiate_language
from domain.paging import parse_page
from domain.schemas import Page
from domain.sql import SessionRunner

log = structlog.get_logger("panda.jobs")

_FILE = Schema(type="string", format="binary")  # type: ignore[arg-type]
_FORM = Schema(type="object", properties={"file": _FILE}, required=["file"])  # type: ignore[arg-type]
UPLOAD_BODY = RequestBody(
    required=True,
    description="The rows: CSV with a header row, a JSON array, NDJSON, or a multipart `file` field.",
    content={
        **{kind: OpenAPIMediaType(schema=_FILE) for kind in ("text/csv", "application/json", "application/x-ndjson")},
        RequestEncodingType.MULTI_PART: OpenAPIMediaType(schema=_FORM),
    },
)


@dataclass
class UploadOperation(Operation):
    """The upload's OpenAPI operation: the body is a file, read as a stream (no ``data`` parameter)."""

    def __post_init__(self) -> None:
        self.request_body = UPLOAD_BODY


def _language(request: Request[Any, Any, Any]) -> str:
    return negotiate_language(request.headers.get("accept-language"))


@contextlib.contextmanager
def _retry_after_when_busy() -> Iterator[None]:
    """A client refused for too many uploads at once is told when to come back."""
    try:
        yield
    except TooManyUploads as exc:
        retry_after = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        raise LocalisedProblem(exc.status, exc.code, exc.params, headers=retry_after) from None


class JobController(Controller):
    """Jobs: upload a file, follow its progress, page its rejected rows, cancel it."""

    path = "/jobs"
    tags = ["jobs"]
    dependencies = {"jobs": provide_jobs}

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        operation_class=UploadOperation,
        guards=[requires(Access.OPERATIONS)],
        opt={"problems": [429, 503, 507], **audited(Action.IMPORT, ResourceType.JOB)},
    )
    async def start_job(
        self,
        request: Request[Any, Any, Any],
        open_sql: NamedDependency[Any],
        job_queue: NamedDependency[JobQueue],
        upload_slots: NamedDependency[UploadSlots],
        settings: NamedDependency[Settings],
        audit: NamedDependency[Any],
        kind: Annotated[str | None, QueryParameter(description="patients or appointments")] = None,
        mode: Annotated[str | None, QueryParameter(description="validate or import")] = None,
    ) -> Response[JobView]:
        """Store the uploaded file and queue a job for it (202, ``Location: /jobs/{id}``).

        429 (with ``Retry-After``) when ``MAX_CONCURRENT_UPLOADS`` are streaming already; 507 when
        the file (counted twice if it may be a JSON array) would leave less than
        ``MIN_FREE_DISK_BYTES`` free. No database connection is held while the body streams.
        """
        job_kind, job_mode = parse_job_request(kind, mode)
        content_type = request.headers.get("content-type")
        check_content_type(content_type)
        needed = bytes_needed(declared_length(request), may_be_json(content_type), settings.max_upload_bytes)
        job_id = uuid.uuid4()
        path = upload_path(settings, job_id)
        opener: SqlOpener = open_sql
        with _retry_after_when_busy(), upload_slots.admit(needed), writing_upload(path) as file:
            fmt, size = await receive_upload(request, file)
            # The body is in: only now a connection, and the row is committed before the task is sent
            # (a worker must find it). If it cannot be recorded, writing_upload deletes the file.
            async with opener() as sql:
                jobs = JobService(sql, audit=audit)
                view = await jobs.create(job_id, job_kind, job_mode, fmt, path, size, _language(request))
        try:
            await job_queue.submit(job_id)
        except Exception as exc:  # noqa: BLE001 - any broker failure
            # The job is committed and stays queued: the scheduler's stalled-job check (or the next
            # worker to start) sends it once the broker is back, so the accepted upload is not lost.
            log.warning("job_queue_unavailable", job_id=str(job_id), error=type(exc).__name__)
        return Response(view, status_code=HTTP_202_ACCEPTED, headers={"Location": f"/jobs/{view.id}"})

    @get("/{job_id:str}", guards=[requires(Access.OPERATIONS)])
    async def get_job(
        self, request: Request[Any, Any, Any], jobs: NamedDependency[JobService], job_id: FromPath[str]
    ) -> Response[JobView]:
        """The job's status and progress: total, processed, valid, invalid, duplicates, imported."""
        language = _language(request)
        return Response(await jobs.read(job_id, language), headers={"Content-Language": language})

    @get(
        "/{job_id:str}/errors",
        guards=[requires(Access.OPERATIONS)],
        opt=audited(Action.READ, ResourceType.JOB, id_param="job_id"),
    )
    async def list_job_errors(
        self,
        request: Request[Any, Any, Any],
        jobs: NamedDependency[JobService],
        job_id: FromPath[str],
        limit: Limit = None,
        offset: Offset = None,
    ) -> Response[Page[JobErrorView]]:
        """Every rejected row: row number (data rows from 1), field, code and localised message."""
        language = _language(request)
        requested = parse_page(limit, offset)
        page = await jobs.errors(job_id, requested.limit, requested.offset, language)
        return Response(page, headers={"Content-Language": language})

    @delete("/{job_id:str}", status_code=200, guards=[requires(Access.OPERATIONS)], opt={"problems": [409]})
    async def cancel_job(
        self, request: Request[Any, Any, Any], jobs: NamedDependency[JobService], job_id: FromPath[str]
    ) -> JobView:
        """Cancel a queued or running job; rows already stored stay (409 once the job has ended)."""
        return await jobs.cancel(job_id, _language(request))


def jobs_router(settings: Settings) -> Router:
    """The job routes, with their own upload size limit (the API's 1 MiB JSON limit is for JSON)."""
    queue = JobQueue(settings)
    slots = UploadSlots(settings)
    return Router(
        path="/",
        route_handlers=[JobController],
        request_max_body_size=settings.max_upload_bytes,
        dependencies={
            "job_queue": Provide(lambda: queue, use_cache=True, sync_to_thread=False),
            "upload_slots": Provide(lambda: slots, use_cache=True, sync_to_thread=False),
            "open_sql": Provide(provide_opener),
        },
    )


def sweep_orphan_uploads(settings: Settings) -> Callable[[], Awaitable[None]]:
    """A start-up hook: delete the uploads a crash left behind (no live job, no writer)."""

    async def live_jobs() -> set[uuid.UUID]:
        engine = make_engine(settings)
        try:
            async with AsyncSession(engine) as session:
                return await store.live_job_ids(SessionRunner(session))
        finally:
            await engine.dispose()

    async def sweep() -> None:
        try:
            removed = await sweep_orphans(settings, live_jobs)
        except Exception as exc:  # noqa: BLE001 - the API starts anyway; the workers' start sweeps too
            log.warning("orphan_upload_sweep_failed", error=type(exc).__name__)
            return
        if removed:
            log.info("orphan_uploads_removed", files=removed)

    return sweep
