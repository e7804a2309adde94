"""Appointments overlap as half-open intervals: back-to-back bookings never clash."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules import intervals_overlap

T0 = dt.datetime(2025, 6, 4, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("a", "b", "clash"),
    [
        ((0, 30), (30, 60), False),  # back-to-back
        ((30, 60), (0, 30), False),  # back-to-back, other order
        ((0, 30), (45, 60), False),  # gap
        ((0, 30), (29, 60), True),  # one minute of overlap
        ((0, 60), (15, 30), True),  # contained
        ((15, 30), (0, 60), True),  # containing
        ((0, 30), (0, 30), True),  # identical
        ((0, 30), (0, 15), True),  # same start
        ((0, 30), (15, 30), True),  # same end
    ],
)
def test_half_open_overlap(a: tuple[int, int], b: tuple[int, int], clash: bool) -> None:
    assert intervals_overlap(at(a[0]), at(a[1]), at(b[0]), at(b[1])) is clash


def test_overlap_compares_instants_not_wall_clock() -> None:
    bst = dt.timezone(dt.timedelta(hours=1))
    # 10:00+01:00 is 09:00Z: exactly where the first booking ends, so no clash...
    assert not intervals_overlap(at(-60), at(0), dt.datetime(2025, 6, 4, 10, 0, tzinfo=bst), at(30))
    # ...but one minute earlier it clashes.
    assert intervals_overlap(at(-60), at(0), dt.datetime(2025, 6, 4, 9, 59, tzinfo=bst), at(30))


intervals = st.tuples(st.integers(0, 2000), st.integers(1, 720)).map(lambda p: (at(p[0]), at(p[0] + p[1])))


@given(a=intervals, b=intervals)
def test_overlap_is_symmetric(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> None:
    assert intervals_overlap(*a, *b) == intervals_overlap(*b, *a)


@given(a=intervals, b=intervals)
def test_overlap_means_a_shared_instant(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> None:
    shared = max(a[0], b[0]) < min(a[1], b[1])
    assert intervals_overlap(*a, *b) == shared


@given(a=intervals)
def test_an_interval_overlaps_itself_but_not_its_successor(a: tuple[dt.datetime, dt.datetime]) -> None:
    start, end = a
    assert intervals_overlap(start, end, start, end)
    assert not intervals_overlap(start, end, end, end + (end - start))
    assert not intervals_overlap(start - (end - start), start, start, end)
