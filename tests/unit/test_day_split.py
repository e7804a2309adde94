"""``split_by_london_days``: whole London days plus edge instants cover a range exactly once."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from domain.rules.periods import (
    Period,
    london_date,
    london_midnight,
    split_by_london_days,
    split_days_by_period,
    truncate_date,
)

UTC = dt.UTC
# Around both clock changes of 2025 and an ordinary month end, to the second.
instants = st.builds(
    lambda anchor, seconds: anchor + dt.timedelta(seconds=seconds),
    st.sampled_from([dt.datetime(2025, 3, 30, tzinfo=UTC), dt.datetime(2025, 10, 26, tzinfo=UTC),
                     dt.datetime(2025, 5, 31, 23, tzinfo=UTC)]),
    st.integers(-3 * 86400, 3 * 86400),
)  # fmt: skip
bounds = st.one_of(st.none(), instants, instants.map(lambda t: london_midnight(london_date(t))))


def _inside(t: dt.datetime, start: dt.datetime | None, end: dt.datetime | None) -> bool:
    return (start is None or start <= t) and (end is None or t < end)


@given(start=bounds, end=bounds, t=instants)
def test_each_instant_is_in_exactly_one_part_when_in_the_range(
    start: dt.datetime | None, end: dt.datetime | None, t: dt.datetime
) -> None:
    split = split_by_london_days(start, end)
    in_days = split.days is not None and _inside_days(london_date(t), *split.days)
    in_edges = [edge for edge in split.edges if _inside(t, *edge)]
    assert in_days + len(in_edges) == (1 if _inside(t, start, end) else 0)


def _inside_days(day: dt.date, first: dt.date | None, end: dt.date | None) -> bool:
    return (first is None or first <= day) and (end is None or day < end)


@given(start=bounds, end=bounds)
def test_day_aligned_bounds_need_no_edges(start: dt.datetime | None, end: dt.datetime | None) -> None:
    aligned = [b for b in (start, end) if b is not None and b == london_midnight(london_date(b))]
    if len(aligned) == sum(b is not None for b in (start, end)):
        assert split_by_london_days(start, end).edges in ((), ((start, end),))


def test_a_range_inside_one_day_is_one_edge() -> None:
    start, end = dt.datetime(2025, 3, 30, 0, 30, tzinfo=UTC), dt.datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert split_by_london_days(start, end).days is None
    assert split_by_london_days(start, end).edges == ((start, end),)


def test_the_spring_forward_day_is_23_hours() -> None:
    split = split_by_london_days(dt.datetime(2025, 3, 29, 12, tzinfo=UTC), dt.datetime(2025, 3, 31, 12, tzinfo=UTC))
    assert split.days == (dt.date(2025, 3, 30), dt.date(2025, 3, 31))
    assert split.edges == (
        (dt.datetime(2025, 3, 29, 12, tzinfo=UTC), dt.datetime(2025, 3, 30, 0, tzinfo=UTC)),
        (dt.datetime(2025, 3, 30, 23, tzinfo=UTC), dt.datetime(2025, 3, 31, 12, tzinfo=UTC)),
    )


days = st.one_of(st.none(), st.dates(dt.date(2024, 10, 1), dt.date(2025, 6, 30)))


@given(
    first=days,
    end=days,
    day=st.dates(dt.date(2024, 9, 1), dt.date(2025, 7, 31)),
    period=st.sampled_from([Period.WEEK, Period.MONTH]),
)
def test_each_day_is_in_a_whole_period_or_a_day_range_once(
    first: dt.date | None, end: dt.date | None, day: dt.date, period: Period
) -> None:
    periods, ranges = split_days_by_period(first, end, period)
    in_periods = periods is not None and _inside_days(truncate_date(day, period), *periods)
    if periods is not None:
        assert all(p is None or truncate_date(p, period) == p for p in periods)
    in_ranges = sum(_inside_days(day, *r) for r in ranges)
    assert in_periods + in_ranges == (1 if _inside_days(day, first, end) else 0)
