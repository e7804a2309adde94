"""Clinicians and departments: created on first use, matched case-insensitively."""

from __future__ import annotations

from advanced_alchemy.base import IdentityBase
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class Clinician(IdentityBase):
    """A clinician; the first spelling of the name is kept.

    Later: the organisation they work for and where they work from.
    """

    __tablename__ = "clinician"

    name: Mapped[str] = mapped_column(String(1020))
    name_key: Mapped[str] = mapped_column(String(1020), unique=True)


class Department(IdentityBase):
    """A hospital department; the first spelling of the name is kept."""

    __tablename__ = "department"

    name: Mapped[str] = mapped_column(String(1020))
    name_key: Mapped[str] = mapped_column(String(1020), unique=True)
