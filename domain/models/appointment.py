"""An appointment between a patient and a clinician, in a department, at a place."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import BigIntIdentity, DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, func, literal_column, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from domain.models.directory import Clinician, Department
    from domain.models.patient import Patient


class Appointment(UUIDAuditBase):
    """``ends_at`` is stored (not computed) so PostgreSQL can index and exclude on the interval."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_clinician_start", "clinician_id", "starts_at"),
        Index("ix_appointment_patient_start", "patient_id", "starts_at"),
        Index("ix_appointment_department_start", "department_id", "starts_at"),
        Index("ix_appointment_status_end", "status", "ends_at"),
        Index("ix_appointment_start", "starts_at"),
        # Reports add the ended-but-still-active rows to the rollup (domain.services.analytics_sql):
        # an index-only scan over the active rows alone, whatever the range.
        Index(
            "ix_appointment_active_end",
            "ends_at",
            postgresql_include=["starts_at", "clinician_id", "department_id", "duration_minutes"],
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        CheckConstraint("ends_at > starts_at", name="interval"),
        CheckConstraint("status IN ('active', 'attended', 'cancelled', 'missed')", name="status"),
        # The no-overlap rule under any concurrency (PostgreSQL; SQLite serialises its writers instead).
        # ``ends_at`` is a column because ``starts_at + interval`` is not immutable (FACTS.md).
        *(
            ExcludeConstraint(
                (column, "="),
                (func.tstzrange(literal_column("starts_at"), literal_column("ends_at")), "&&"),
                name=f"ex_appointment_{column}_overlap",
                using="gist",
                where=text("status = 'active'"),
            ).ddl_if(dialect="postgresql")
            for column in ("clinician_id", "patient_id")
        ),
    )

    # NULL once the patient is erased: the record stays for statistics, de-identified.
    patient_id: Mapped[int | None] = mapped_column(BigIntIdentity, ForeignKey("patient.id", ondelete="SET NULL"))
    clinician_id: Mapped[int] = mapped_column(BigIntIdentity, ForeignKey("clinician.id"))
    department_id: Mapped[int] = mapped_column(BigIntIdentity, ForeignKey("department.id"))
    status: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    postcode: Mapped[str] = mapped_column(String(8))

    patient: Mapped[Patient | None] = relationship(lazy="raise")
    clinician: Mapped[Clinician] = relationship(lazy="raise")
    department: Mapped[Department] = relationship(lazy="raise")
