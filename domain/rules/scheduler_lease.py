"""Which of several ``panda scheduler`` processes is the active one: a lease with an expiry.

Every scheduler tries to take or renew the one lease every :attr:`LeaseTiming.check_every`
seconds. The holder renews it; the others may take it only once it has expired, so a holder
that dies (``kill -9`` included: nothing to release) is replaced when its last renewal runs out.
With a lease of 1.5 intervals and a check every quarter interval, a standby is active within
1.75 ``SCHEDULER_INTERVAL``s of the holder's death, inside SPEC §12's two. The expiry is written
with the clock of the process that renews: schedulers on several machines need clocks in step
(NTP), as reminder times already do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SCHEDULER_LEASE = "scheduler"
LEASE_INTERVALS = 1.5
CHECKS_PER_INTERVAL = 4


@dataclass(frozen=True)
class LeaseTiming:
    """How long a lease lasts and how often it is checked, for one ``SCHEDULER_INTERVAL``."""

    interval: float

    @property
    def length(self) -> dt.timedelta:
        """How long one renewal keeps the lease."""
        return dt.timedelta(seconds=self.interval * LEASE_INTERVALS)

    @property
    def check_every(self) -> float:
        """Seconds between two attempts to take or renew the lease (holder and standbys alike)."""
        return self.interval / CHECKS_PER_INTERVAL

    @property
    def takeover_within(self) -> dt.timedelta:
        """The longest a dead holder stays unreplaced: its lease, then one standby check."""
        return self.length + dt.timedelta(seconds=self.check_every)


def may_hold(holder: str | None, expires_at: dt.datetime | None, contender: str, now: dt.datetime) -> bool:
    """Whether ``contender`` may take or renew the lease now held by ``holder`` until ``expires_at``.

    Free (no row), its own, or expired. ``domain.services.scheduler_lease`` states the same
    condition in its one conditional upsert, so two contenders cannot both succeed.
    """
    return holder is None or expires_at is None or holder == contender or expires_at <= now
