"""Where uploads live, and their removal once a job ends: they hold patient data."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

from domain.config import Settings
from domain.jobs.formats import Format
from domain.jobs.scan import rows_path


def upload_path(settings: Settings, job_id: uuid.UUID) -> Path:
    """The absolute path of a job's upload (API and workers share the directory)."""
    directory = settings.upload_dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / str(job_id)


def remove_upload(path: str | Path, fmt: str) -> None:
    """Delete the upload and any copy made of it; a file already gone is fine."""
    upload = Path(path)
    for file in {upload, rows_path(upload, Format(fmt))}:
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
