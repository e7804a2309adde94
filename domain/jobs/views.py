"""What the API shows of a job and of its rejected rows; messages localised when read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from domain.messages import message
from domain.rules import to_utc_iso


class JobReason(msgspec.Struct):
    """Why a job failed: a stable code and its message."""

    code: str
    message: str


class JobView(msgspec.Struct):
    """A job's state and progress; ``duplicates`` are valid rows already stored or repeated in the file."""

    id: str
    kind: str
    mode: str
    status: str
    format: str
    size: int
    total: int | None
    processed: int
    valid: int
    invalid: int
    duplicates: int
    imported: int
    reason: JobReason | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    updated_at: str


class JobErrorView(msgspec.Struct):
    """One rejected field of one row; ``row`` counts data rows from 1 (not a CSV header)."""

    row: int
    field: str
    code: str
    message: str


def _params(raw: str | None) -> dict[str, Any]:
    return msgspec.json.decode(raw) if raw else {}


def _instant(value: Any) -> str | None:
    return None if value is None else to_utc_iso(value)


def job_view(row: Mapping[str, Any], language: str) -> JobView:
    """Build the API view of a job row with its summed progress."""
    reason = None
    if row["reason"]:
        text = message(row["reason"], language, **_params(row["reason_params"]))
        reason = JobReason(code=row["reason"], message=text)
    return JobView(
        id=str(row["id"]),
        kind=row["kind"],
        mode=row["mode"],
        status=row["status"],
        format=row["format"],
        size=int(row["size"]),
        total=None if row["total"] is None else int(row["total"]),
        processed=int(row["processed"]),
        valid=int(row["valid"]),
        invalid=int(row["invalid"]),
        duplicates=int(row["duplicates"]),
        imported=int(row["imported"]),
        reason=reason,
        created_at=to_utc_iso(row["created_at"]),
        started_at=_instant(row["started_at"]),
        finished_at=_instant(row["finished_at"]),
        updated_at=to_utc_iso(row["updated_at"]),
    )


def job_error_view(row: Mapping[str, Any], language: str) -> JobErrorView:
    """Build the API view of one stored rejected field."""
    code = row["code"]
    return JobErrorView(
        row=int(row["row_number"]),
        field=row["field"],
        code=code,
        message=message(code, language, **_params(row["params"])),
    )
