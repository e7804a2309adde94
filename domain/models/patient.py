"""A patient, identified in the API by their NHS number."""

from __future__ import annotations

import datetime as dt

from advanced_alchemy.base import IdentityAuditBase
from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column


class Patient(IdentityAuditBase):
    """Personal data lives only here, so erasing the row erases the person."""

    __tablename__ = "patient"

    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(1020))
    # Python-casefolded copy: SQL lower()/LIKE fold ASCII only on SQLite and vary with PG locale.
    name_search: Mapped[str] = mapped_column(String(1020), index=True)
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    postcode: Mapped[str] = mapped_column(String(8), index=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
