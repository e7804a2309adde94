"""Clinicians and departments: created on first use, matched case-insensitively."""

from __future__ import annotations

from advanced_alchemy.base import IdentityBase
from sqlalchemy import BigInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column


class Clinician(IdentityBase):
    """A clinician; the first spelling of the name is kept.

    Later: the organisation they work for and where they work from.
    """

    __tablename__ = "clinician"

    name: Mapped[str] = mapped_column(String(1020))
    name_key: Mapped[str] = mapped_column(String(1020), unique=True)
    # A new random value (PostgreSQL, by triggers: migration 0015) in the same transaction as any
    # change to the clinician's sessions, unavailability or holds that could refuse a booking; 0
    # while they never had any. A booking checked against a copy of the timetable compares it
    # (domain/services/timetable_cache.py).
    timetable_version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class Department(IdentityBase):
    """A hospital department; the first spelling of the name is kept."""

    __tablename__ = "department"

    name: Mapped[str] = mapped_column(String(1020))
    name_key: Mapped[str] = mapped_column(String(1020), unique=True)
