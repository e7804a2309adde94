"""``panda import FILE``: the operator's way to validate or import the old system's files.

The same job as ``POST /jobs``: the file is copied to the upload directory, recorded as a job,
and run chunk by chunk, here in this process (no worker needed) or, with ``--via-workers``,
by the running workers while this command follows its progress. A progress bar shows the rows
done; rejected rows are listed by number, field and code (never their values).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from domain.config import Settings, get_settings
from domain.jobs.formats import EXTENSIONS, Format, JobStatus, Kind, Mode
from domain.logs import configure_logging
from domain.messages import DEFAULT_LANGUAGE

# Only what the command's options need is imported up front: ``panda --help`` stays quick.
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from domain.jobs.views import JobView

SHOWN_ERRORS = 20
POLL_SECONDS = 0.5


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice([k.value for k in Kind]), required=True)
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default=Mode.VALIDATE.value, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice([f.value for f in Format]), help="Default: from the file's extension."
)
@click.option("--via-workers", is_flag=True, help="Hand the job to the running workers and follow it.")
@click.option("--verbose", is_flag=True, help="Show the jobs' log lines (progress bar only otherwise).")
def import_file(file: Path, kind: str, mode: str, fmt: str | None, via_workers: bool, verbose: bool) -> None:
    """Validate (default) or import FILE of patients or appointments, showing progress."""
    file_format = Format(fmt) if fmt else EXTENSIONS.get(file.suffix.lower())
    if file_format is None:
        raise click.UsageError("cannot tell the format from the file name: give --format csv|json|ndjson")
    settings = get_settings()
    if not verbose:
        configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    view = asyncio.run(_run(settings, file, Kind(kind), Mode(mode), file_format, via_workers))
    _report(view)
    sys.exit(0 if view.status == JobStatus.SUCCEEDED else 1)


async def _run(settings: Settings, file: Path, kind: Kind, mode: Mode, fmt: Format, via_workers: bool) -> JobView:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from domain.db import make_engine
    from domain.jobs.files import upload_path
    from domain.jobs.service import JobService
    from domain.sql import SessionRunner

    engine = make_engine(settings)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        job_id = uuid.uuid4()
        target = upload_path(settings, job_id)
        shutil.copyfile(file, target)
        async with sessions() as session, session.begin():
            await JobService(SessionRunner(session)).create(
                job_id, kind, mode, fmt, target, target.stat().st_size, DEFAULT_LANGUAGE
            )
        click.echo(f"job {job_id}: {mode.value} {kind.value} from {file.name}")
        try:
            if via_workers:
                await _follow(settings, sessions, job_id)
            else:
                await _here(settings, sessions, job_id)
        except (KeyboardInterrupt, asyncio.CancelledError):
            # Interrupted here: the job must not stay "running" with nobody to finish it.
            async with sessions() as session, session.begin():
                await JobService(SessionRunner(session)).cancel(str(job_id), DEFAULT_LANGUAGE)
            raise
        async with sessions() as session:
            return await JobService(SessionRunner(session)).read(str(job_id), DEFAULT_LANGUAGE)
    finally:
        await engine.dispose()


async def _here(settings: Settings, sessions: async_sessionmaker[Any], job_id: uuid.UUID) -> None:
    from domain.jobs import store
    from domain.jobs.runner import run_here
    from domain.sql import SessionRunner

    bar = None
    async for rows in run_here(sessions, job_id, settings):
        if bar is None:
            async with sessions() as session:
                job = await store.job_row(SessionRunner(session), job_id)
            bar = click.progressbar(length=int(job["total"] or 0) if job else 0, label="rows")
        bar.update(rows)
    if bar is not None:
        bar.render_finish()


async def _follow(settings: Settings, sessions: async_sessionmaker[Any], job_id: uuid.UUID) -> None:
    from api.job_queue import JobQueue
    from domain.jobs import store
    from domain.sql import SessionRunner

    await JobQueue(settings).submit(job_id)
    done = 0
    with click.progressbar(length=1, label="rows") as bar:
        while True:
            async with sessions() as session:
                job = await store.job_with_counts(SessionRunner(session), job_id)
            assert job is not None
            if job["total"] is not None and bar.length != job["total"]:
                bar.length = max(int(job["total"]), 1)
            bar.update(job["processed"] - done)
            done = job["processed"]
            if job["status"] not in (JobStatus.QUEUED, JobStatus.RUNNING):
                return
            await asyncio.sleep(POLL_SECONDS)


def _report(view: JobView) -> None:
    click.echo(
        f"{view.status}: {view.processed} of {view.total or 0} rows; valid {view.valid}, invalid {view.invalid}, "
        f"duplicates {view.duplicates}, imported {view.imported}"
    )
    if view.reason:
        click.echo(f"reason: {view.reason.code}: {view.reason.message}")
    if view.invalid:
        click.echo(f"rejected rows (GET /jobs/{view.id}/errors lists them all):")
        asyncio.run(_show_errors(view.id))


async def _show_errors(job_id: str) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from domain.db import make_engine
    from domain.jobs.service import JobService
    from domain.sql import SessionRunner

    engine = make_engine(get_settings())
    try:
        async with async_sessionmaker(engine)() as session:
            page = await JobService(SessionRunner(session)).errors(job_id, SHOWN_ERRORS, 0, DEFAULT_LANGUAGE)
        for error in page.items:
            click.echo(f"  row {error.row}, {error.field}: {error.code} — {error.message}")
        if page.total > len(page.items):
            click.echo(f"  … and {page.total - len(page.items)} more")
    finally:
        await engine.dispose()
