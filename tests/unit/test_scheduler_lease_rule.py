"""The scheduler lease rule, without a database: one holder at a time, and a bounded takeover."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from domain.rules.scheduler_lease import LeaseTiming, may_hold

T0 = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # the clock change does not matter: UTC instants


def test_free_own_or_expired_leases_may_be_taken_and_no_other() -> None:
    later = T0 + dt.timedelta(seconds=10)
    assert may_hold(None, None, "b", T0)
    assert may_hold("a", later, "a", T0)
    assert not may_hold("a", later, "b", T0)
    assert may_hold("a", later, "b", later)


def test_a_lease_lasts_one_and_a_half_intervals_and_a_dead_holder_is_replaced_within_two() -> None:
    timing = LeaseTiming(30.0)
    assert timing.length == dt.timedelta(seconds=45)
    assert timing.check_every == 7.5
    assert timing.takeover_within < dt.timedelta(seconds=2 * 30)


@given(
    interval=st.floats(min_value=0.5, max_value=120),
    offsets=st.lists(st.floats(min_value=0, max_value=1), min_size=2, max_size=5),
    death_after_checks=st.integers(min_value=1, max_value=20),
)
def test_contenders_checking_on_their_own_clocks_never_hold_together_and_take_over_in_time(
    interval: float, offsets: list[float], death_after_checks: int
) -> None:
    """Each contender checks every ``check_every`` from its own phase; the first holder dies."""
    timing = LeaseTiming(interval)
    step = timing.check_every
    checks = sorted(
        (T0 + dt.timedelta(seconds=(offset + k) * step), name)
        for name, offset in enumerate(offsets)
        for k in range(death_after_checks + 20)
    )
    holder: int | None = None
    expires_at: dt.datetime | None = None
    first_holder: int | None = None
    died_at: dt.datetime | None = None
    taken_over_at: dt.datetime | None = None
    renewals = 0
    for now, name in checks:
        if died_at is not None and name == first_holder:
            continue  # killed: it checks no more
        if may_hold(holder, expires_at, name, now):
            if holder is not None and holder != name and died_at is not None and taken_over_at is None:
                taken_over_at = now
            holder, expires_at = name, now + timing.length
            if first_holder is None:
                first_holder = name
            if name == first_holder:
                renewals += 1
                if renewals == death_after_checks:
                    died_at = now
    assert died_at is not None and taken_over_at is not None
    assert taken_over_at - died_at <= timing.takeover_within + dt.timedelta(microseconds=1)
    assert taken_over_at - died_at < dt.timedelta(seconds=2 * interval)
