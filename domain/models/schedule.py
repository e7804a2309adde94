"""Clinicians' schedules, their unavailability and short holds on slots (SPEC §10)."""

from __future__ import annotations

import datetime as dt

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import BigIntIdentity, DateTimeUTC
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, func, literal_column
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column


class Schedule(UUIDAuditBase):
    """A clinician's recurring session at a site, in Europe/London wall-clock minutes."""

    __tablename__ = "schedule"
    __table_args__ = (
        Index("ix_schedule_clinician", "clinician_id"),
        Index("ix_schedule_department", "department_id"),
        CheckConstraint("start_minute < end_minute", name="session"),
        CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays"),
    )

    clinician_id: Mapped[int] = mapped_column(BigIntIdentity, ForeignKey("clinician.id"))
    department_id: Mapped[int] = mapped_column(BigIntIdentity, ForeignKey("department.id"))
    postcode: Mapped[str] = mapped_column(String(8))
    weekdays: Mapped[int] = mapped_column(Integer)  # bit mask, bit 0 Monday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)


class Unavailability(UUIDAuditBase):
    """Time a clinician cannot see patients: leave, training, a bank holiday."""

    __tablename__ = "unavailability"
    __table_args__ = (
        Index("ix_unavailability_clinician_start", "clinician_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="interval"),
    )

    clinician_id: Mapped[int] = mapped_column(BigIntIdentity, ForeignKey("clinician.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(1020), default=None)


class SlotHold(UUIDAuditBase):
    """A clinician's interval held for a few minutes while a patient decides.

    PostgreSQL refuses two overlapping holds of one clinician under any concurrency. The
    constraint cannot say "unexpired" (``now()`` is not immutable), so a writer deletes the
    clinician's expired holds in its interval before inserting; reads ignore expired ones.
    """

    __tablename__ = "slot_hold"
    __table_args__ = (
        Index("ix_slot_hold_clinician_start", "clinician_id", "starts_at"),
        Index("ix_slot_hold_expires", "expires_at"),
        CheckConstraint("ends_at > starts_at", name="interval"),
        ExcludeConstraint(
            ("clinician_id", "="),
            (func.tstzrange(literal_column("starts_at"), literal_column("ends_at")), "&&"),
            name="ex_slot_hold_clinician_id_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    clinician_id: Mapped[int] = mapped_column(BigIntIdentity, ForeignKey("clinician.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
