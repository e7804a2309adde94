"""Reminder planning: one reminder per offset before the start, none already in the past."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import Settings
from domain.rules import plan_reminders

START = dt.datetime(2025, 6, 4, 16, 30, tzinfo=dt.UTC)
DEFAULT_OFFSETS = (24 * 60, 2 * 60)  # 24h,2h
HOUR = dt.timedelta(hours=1)


def test_default_offsets_give_two_due_times_earliest_first() -> None:
    now = START - 7 * 24 * HOUR
    assert plan_reminders(START, now, DEFAULT_OFFSETS) == [START - 24 * HOUR, START - 2 * HOUR]


def test_configured_24h_2h_plan_the_24h_and_2h_reminders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_OFFSETS", "24h,2h")
    offsets = Settings().reminder_offsets
    assert plan_reminders(START, START - 48 * HOUR, offsets) == [START - 24 * HOUR, START - 2 * HOUR]


def test_an_offset_already_passed_is_not_planned() -> None:
    now = START - 5 * HOUR  # booked five hours ahead: the 24h reminder is too late
    assert plan_reminders(START, now, DEFAULT_OFFSETS) == [START - 2 * HOUR]


def test_nothing_is_planned_when_every_offset_has_passed() -> None:
    assert plan_reminders(START, START - HOUR, DEFAULT_OFFSETS) == []
    assert plan_reminders(START, START + HOUR, DEFAULT_OFFSETS) == []  # historical record


def test_order_is_earliest_first_whatever_the_offsets_order() -> None:
    now = START - 30 * 24 * HOUR
    planned = plan_reminders(START, now, [30, 7 * 24 * 60, 120, 24 * 60])
    assert planned == [START - 7 * 24 * HOUR, START - 24 * HOUR, START - 2 * HOUR, START - dt.timedelta(minutes=30)]


def test_duplicate_offsets_plan_one_reminder() -> None:
    assert plan_reminders(START, START - 48 * HOUR, [120, 120, 24 * 60]) == [START - 24 * HOUR, START - 2 * HOUR]


def test_no_offsets_plan_nothing() -> None:
    assert plan_reminders(START, START - 48 * HOUR, []) == []


def test_due_times_are_the_same_instant_whatever_the_start_offset() -> None:
    bst_start = START.astimezone(dt.timezone(HOUR))
    planned = plan_reminders(bst_start, START - 48 * HOUR, DEFAULT_OFFSETS)
    assert planned == [START - 24 * HOUR, START - 2 * HOUR]


@given(
    offsets=st.lists(st.integers(min_value=1, max_value=14 * 24 * 60), max_size=6),
    booked_ahead=st.integers(min_value=-24 * 60, max_value=15 * 24 * 60),
)
def test_planned_reminders_are_future_sorted_and_before_the_start(offsets: list[int], booked_ahead: int) -> None:
    now = START - dt.timedelta(minutes=booked_ahead)
    planned = plan_reminders(START, now, offsets)
    assert planned == sorted(set(planned))
    assert all(now < due < START for due in planned)
    expected = {START - dt.timedelta(minutes=o) for o in offsets if START - dt.timedelta(minutes=o) > now}
    assert set(planned) == expected
