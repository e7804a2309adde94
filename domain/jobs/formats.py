"""What a bulk job is: its kind, mode, status, and the file formats it reads."""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath
from typing import Any

from domain.errors import FieldChecker
from domain.rules.choices import parse_choice


class Kind(StrEnum):
    """What the rows of the file are."""

    PATIENTS = "patients"
    APPOINTMENTS = "appointments"


class Mode(StrEnum):
    """``validate`` only reports; ``import`` also stores the valid rows."""

    VALIDATE = "validate"
    IMPORT = "import"


class Format(StrEnum):
    """How the rows are written in the file."""

    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


class JobStatus(StrEnum):
    """The life of a job; the last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)

MEDIA_TYPES = {
    "text/csv": Format.CSV,
    "application/csv": Format.CSV,
    "application/json": Format.JSON,
    "application/x-ndjson": Format.NDJSON,
    "application/ndjson": Format.NDJSON,
    "application/jsonl": Format.NDJSON,
}
# A multipart part sent without a specific type (browsers often say octet-stream) is known by its name.
EXTENSIONS = {".csv": Format.CSV, ".json": Format.JSON, ".ndjson": Format.NDJSON, ".jsonl": Format.NDJSON}
GENERIC_MEDIA_TYPES = {"", "application/octet-stream", "text/plain"}


class UnreadableFile(Exception):
    """The file as a whole cannot be read as its format: the job ends ``failed`` with this reason."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def parse_kind(raw: Any) -> Kind:
    """``patients`` or ``appointments`` exactly."""
    return parse_choice(Kind, raw, "kind.invalid")


def parse_mode(raw: Any) -> Mode:
    """``validate`` or ``import`` exactly."""
    return parse_choice(Mode, raw, "mode.invalid")


def parse_job_request(kind: Any, mode: Any) -> tuple[Kind, Mode]:
    """``POST /jobs``'s ``kind`` and ``mode``; one 400 names both when both are bad or absent."""
    checker = FieldChecker()
    job_kind = checker.check("kind", kind, parse_kind, required=True)
    job_mode = checker.check("mode", mode, parse_mode, required=True)
    checker.raise_if_any()
    assert job_kind is not None and job_mode is not None
    return job_kind, job_mode


def media_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a ``Content-Type`` header (parameters dropped)."""
    return (content_type or "").split(";", maxsplit=1)[0].strip().lower()


def format_of(content_type: str | None, filename: str | None = None) -> Format | None:
    """The format a ``Content-Type`` names; for a generic type, the file name's extension decides."""
    kind = media_type(content_type)
    if kind in MEDIA_TYPES:
        return MEDIA_TYPES[kind]
    if kind in GENERIC_MEDIA_TYPES and filename:
        return EXTENSIONS.get(PurePath(filename).suffix.lower())
    return None
