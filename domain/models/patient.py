"""A patient, identified in the API by their NHS number."""

from __future__ import annotations

import datetime as dt

from advanced_alchemy.base import IdentityAuditBase
from sqlalchemy import Boolean, Date, String, false
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
    # SPEC §11: ``email``, ``sms``, ``none`` (opted out); null applies the default rule at dispatch.
    reminder_preference: Mapped[str | None] = mapped_column(String(8), default=None)
    language: Mapped[str] = mapped_column(String(2), default="en", server_default="en")
    # Set by a ``permanent-failure`` delivery receipt; cleared when the detail changes.
    email_unusable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    phone_unusable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
