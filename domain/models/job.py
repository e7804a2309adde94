"""Bulk validation and import jobs: the job, its chunks (the unit of resumable work), its rejected rows."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.base import DefaultBase, UUIDAuditBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class Job(UUIDAuditBase):
    """One uploaded file being validated or imported; its counts are the sums of its done chunks."""

    __tablename__ = "job"

    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    format: Mapped[str] = mapped_column(String(16))
    # Where the upload is stored; the file is deleted when the job ends (it holds patient data).
    path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Known once the file has been scanned and split into chunks.
    total: Mapped[int | None] = mapped_column(BigInteger, default=None)
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    # Parameters of the reason's message, as a JSON object (never patient data).
    reason_params: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # Runs of the plan that started and never ended: each is a worker that died with it.
    plan_lost_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class JobChunk(DefaultBase):
    """A byte range of the file; its results are written in one transaction with ``status = done``."""

    __tablename__ = "job_chunk"

    job_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_byte: Mapped[int] = mapped_column(BigInteger)
    end_byte: Mapped[int] = mapped_column(BigInteger)
    # Row number (1-based, data rows only) of the chunk's first row, and how many rows it holds.
    first_row: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    valid: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    # When a worker finished it: a job whose newest chunk is old has stalled (see resume_stalled).
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # Runs that started and never ended (counted in the database: a flushed broker forgets nothing here).
    lost_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class JobError(DefaultBase):
    """One rejected field of one row: the code and its parameters, localised when read."""

    __tablename__ = "job_error"

    job_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    row_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    field: Mapped[str] = mapped_column(String(255))
    code: Mapped[str] = mapped_column(String(64))
    # Parameters of the code's message, as a JSON object (never the rejected value).
    params: Mapped[str | None] = mapped_column(Text, default=None)


class JobKey(DefaultBase):
    """Keys (NHS numbers, appointment ids) a validation job has seen: a repeat in the file is a duplicate.

    Scratch state, deleted when the job ends; an import needs none (the stored rows are the keys).
    No foreign key to ``job``: its check, once per claimed key, cost as much as the key's own
    insert (a million-row validation claims a million keys), and jobs are never deleted.
    """

    __tablename__ = "job_key"

    job_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
