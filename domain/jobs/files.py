"""Where uploads live, what may be stored there, and their removal: they hold patient data.

An upload is written under its job's id while its writer holds an exclusive ``flock`` on it,
from the first byte until the job's row is committed. A sweep at start (API or worker) removes
every file of ``UPLOAD_DIR`` that no live (queued or running) job owns and nobody is writing:
what a crash left behind. A process that dies releases its locks, so its half-written upload
is swept too.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from domain.config import Settings
from domain.errors import DomainError
from domain.jobs.formats import Format
from domain.jobs.scan import rows_path

# Seconds a refused client is told to wait before it tries again.
RETRY_AFTER_SECONDS = 5


class TooManyUploads(DomainError):
    """``MAX_CONCURRENT_UPLOADS`` are streaming in this process already: try again shortly."""

    status = 429


class InsufficientStorage(DomainError):
    """Storing the upload would leave less than ``MIN_FREE_DISK_BYTES`` free."""

    status = 507


def upload_dir(settings: Settings) -> Path:
    """The absolute upload directory (API and workers share it), made if missing."""
    directory = settings.upload_dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def upload_path(settings: Settings, job_id: uuid.UUID) -> Path:
    """The absolute path of a job's upload."""
    return upload_dir(settings) / str(job_id)


def remove_upload(path: str | Path, fmt: str) -> None:
    """Delete the upload and any copy made of it; a file already gone is fine."""
    upload = Path(path)
    for file in {upload, rows_path(upload, Format(fmt))}:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def bytes_needed(declared_length: int | None, json_possible: bool, max_upload_bytes: int) -> int:
    """Disk an upload may take: its declared length (else the upload limit), twice when it may be a
    JSON array, which the worker copies once more as NDJSON before reading it."""
    size = max_upload_bytes if declared_length is None else min(declared_length, max_upload_bytes)
    return 2 * size if json_possible else size


class UploadSlots:
    """This process's uploads in flight: how many stream at once, and the disk they have claimed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.active = 0
        self.reserved = 0

    @contextlib.contextmanager
    def admit(self, needed: int) -> Iterator[None]:
        """Hold a slot and ``needed`` bytes while the block runs; refuse (429, 507) if there is no room."""
        if self.active >= self.settings.max_concurrent_uploads:
            raise TooManyUploads("upload.too_many")
        free = shutil.disk_usage(upload_dir(self.settings)).free
        # Uploads already streaming will fill what they claimed: count it as used.
        if free - self.reserved - needed < self.settings.min_free_disk_bytes:
            raise InsufficientStorage("upload.insufficient_storage")
        self.active += 1
        self.reserved += needed
        try:
            yield
        finally:
            self.active -= 1
            self.reserved -= needed


@contextlib.contextmanager
def writing_upload(path: Path) -> Iterator[BinaryIO]:
    """The new upload file, locked against the sweep until the block ends; deleted if the block fails."""
    try:
        with path.open("xb") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            yield file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise


def _job_id(path: Path) -> uuid.UUID | None:
    try:
        return uuid.UUID(path.name.split(".", 1)[0])
    except ValueError:
        return None


async def sweep_orphans(settings: Settings, live_jobs: Callable[[], Awaitable[set[uuid.UUID]]]) -> int:
    """Delete the files of ``UPLOAD_DIR`` that no live job owns and no writer holds; return how many.

    Each candidate is locked before the live jobs are read: a writer commits its job before it
    lets go of the lock, so a file either is being written (skipped) or its job is already visible.
    """
    files = [path for path in upload_dir(settings).iterdir() if path.is_file()]
    if not files:
        return 0
    with contextlib.ExitStack() as locks:
        unheld: list[Path] = []
        for path in files:
            try:
                file = locks.enter_context(path.open("rb"))
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (BlockingIOError, FileNotFoundError):
                continue
            unheld.append(path)
        live = await live_jobs() if unheld else set()
        removed = 0
        for path in unheld:
            if _job_id(path) not in live:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                removed += 1
        return removed
