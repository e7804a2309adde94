"""The scheduler's lease: which ``panda scheduler`` process is active (SPEC §12)."""

from __future__ import annotations

import datetime as dt

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


class SchedulerLease(DefaultBase):
    """One row per lease: who holds it and until when (see ``domain.rules.scheduler_lease``)."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
