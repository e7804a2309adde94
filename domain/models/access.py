"""API keys and the audit trail (SPEC §9)."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Index, LargeBinary, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column


class ApiKey(DefaultBase):
    """A system's credential: only the SHA-256 of its 256-bit random secret is stored."""

    __tablename__ = "api_key"
    __table_args__ = (
        # A name is reused only once its earlier key is revoked (rotation keeps the name).
        Index(
            "uq_api_key_name_live",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated role names
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class AuditEvent(DefaultBase):
    """Who did what to which patient's data, and how it ended; appended, never changed.

    ``patient`` is the NHS number as text (no foreign key): an erased patient's events stay.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_at", "patient", "at"),
        Index("ix_audit_event_resource", "resource_type", "resource_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(255), index=True)
    roles: Mapped[str] = mapped_column(String(100))  # comma-separated role names
    action: Mapped[str] = mapped_column(String(16))
    resource_type: Mapped[str | None] = mapped_column(String(16), default=None)
    resource_id: Mapped[str | None] = mapped_column(String(64), default=None)
    patient: Mapped[str | None] = mapped_column(String(10), default=None)
    outcome: Mapped[int] = mapped_column(SmallInteger)
    request_id: Mapped[str | None] = mapped_column(String(32), default=None)
    changes: Mapped[str | None] = mapped_column(Text, default=None)  # a JSON object


class PatientAuditKey(DefaultBase):
    """The key that seals a patient's personal values in their audit events; erasure deletes it.

    Events are never changed (SPEC §9), yet erasure must leave nothing personal but the NHS
    number: a patient's changed details go into their events encrypted, and without this key
    they can no longer be read (crypto-shredding; see ``domain/audit/sealing.py``).
    """

    __tablename__ = "patient_audit_key"

    patient: Mapped[str] = mapped_column(String(10), primary_key=True)  # the NHS number
    key: Mapped[bytes] = mapped_column(LargeBinary(32))
