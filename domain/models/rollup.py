"""The analytics rollup: settled outcomes per Europe/London day × clinician × department.

Kept by database triggers (``domain.services.rollup``) in the same transaction as every write
to ``appointment``; read by ``domain.services.analytics``.
"""

from __future__ import annotations

import datetime as dt

from advanced_alchemy.base import CommonTableAttributes, orm_registry
from sqlalchemy import BigInteger, Date, Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class _Base(CommonTableAttributes, DeclarativeBase):
    """The project's metadata, without the identity or audit columns other tables carry."""

    registry = orm_registry
    __abstract__ = True


class AppointmentDayTotal(_Base):
    """Stored ``attended`` and ``missed`` appointments starting on one London ``day``.

    No foreign keys: a trigger's upsert would otherwise lock the clinician and department rows
    of every write. A group whose settled appointments all left keeps a zero row (reports skip
    it) until the next :func:`domain.services.rollup.rebuild_rollup`.
    """

    __tablename__ = "appointment_day_total"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    clinician_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    department_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    appointments: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    missed_minutes: Mapped[int] = mapped_column(BigInteger)


class AppointmentMonthTotal(_Base):
    """The same totals per London ``month`` (its first day): whole months of a long report read these."""

    __tablename__ = "appointment_month_total"

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    clinician_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    department_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    appointments: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    missed_minutes: Mapped[int] = mapped_column(BigInteger)


class AppointmentWeekTotal(_Base):
    """The same totals per London ``week`` (its Monday): whole weeks of a long weekly report read these."""

    __tablename__ = "appointment_week_total"

    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    clinician_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    department_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    appointments: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)
    missed_minutes: Mapped[int] = mapped_column(BigInteger)
