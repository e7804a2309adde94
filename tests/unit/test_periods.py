"""London reporting periods and range bounds, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import RuleViolation
from domain.rules.periods import GroupBy, Period, parse_group_by, parse_period, parse_range_bound, period_start


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("instant", "period", "expected"),
    [
        ("2025-03-31T22:59:00", Period.MONTH, "2025-03-01"),  # 23:59 BST, still March
        ("2025-03-31T23:00:00", Period.MONTH, "2025-04-01"),  # midnight BST: April
        ("2025-10-31T23:30:00", Period.MONTH, "2025-10-01"),  # GMT again: 23:30 is still October
        ("2025-09-30T23:30:00", Period.MONTH, "2025-10-01"),
        ("2025-03-30T00:59:00", Period.DAY, "2025-03-30"),  # a minute before the clocks go forward
        ("2025-03-30T01:00:00", Period.DAY, "2025-03-30"),
        ("2025-10-26T00:30:00", Period.DAY, "2025-10-26"),  # 01:30 BST, the first of two
        ("2025-10-26T01:30:00", Period.DAY, "2025-10-26"),  # 01:30 GMT, the second
        ("2025-06-01T23:30:00", Period.DAY, "2025-06-02"),
        ("2025-03-30T23:30:00", Period.WEEK, "2025-03-31"),  # Monday 00:30 BST
        ("2025-03-30T22:59:00", Period.WEEK, "2025-03-24"),  # Sunday 23:59 BST
        ("2024-12-31T23:59:00", Period.WEEK, "2024-12-30"),  # weeks cross years
        ("2024-02-29T12:00:00", Period.MONTH, "2024-02-01"),
    ],
)
def test_period_start_reads_the_london_wall_clock(instant: str, period: Period, expected: str) -> None:
    assert period_start(utc(instant), period).isoformat() == expected


def test_a_naive_instant_is_taken_as_utc() -> None:
    assert period_start(dt.datetime(2025, 7, 31, 23, 30), Period.MONTH) == dt.date(2025, 8, 1)


def test_a_date_bound_is_london_midnight() -> None:
    assert parse_range_bound("2025-07-01", rule="from") == utc("2025-06-30T23:00:00")
    assert parse_range_bound("2025-01-01", rule="to") == utc("2025-01-01T00:00:00")
    assert parse_range_bound("2025-03-30", rule="to") == utc("2025-03-30T00:00:00")
    assert parse_range_bound("2025-03-31", rule="to") == utc("2025-03-30T23:00:00")


def test_a_timestamp_bound_keeps_its_instant() -> None:
    assert parse_range_bound("2025-07-01T09:00:00+01:00", rule="from") == utc("2025-07-01T08:00:00")


@pytest.mark.parametrize(
    ("raw", "rule", "code"),
    [
        ("2025-13-01", "from", "from.date_or_time"),
        ("yesterday", "to", "to.date_or_time"),
        ("", "from", "from.date_or_time"),
        ("2025-07-01T09:00:00", "to", "to.offset_required"),
        ("2025-07-01T25:00:00+00:00", "from", "from.date_or_time"),
        ("0001-01-01", "to", "to.range"),
        ("9999-12-30", "from", "from.range"),
        ("9999-12-31T23:59:59+00:00", "to", "to.range"),
    ],
)
def test_bad_bounds_name_their_field(raw: str, rule: str, code: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        parse_range_bound(raw, rule=rule)
    assert caught.value.code == code


def test_group_by_and_period_accept_their_names_only() -> None:
    assert parse_group_by("clinician") is GroupBy.CLINICIAN
    assert parse_period("week") is Period.WEEK
    for raw, parse, code in (
        ("Clinician", parse_group_by, "group_by.invalid"),
        ("year", parse_period, "period.invalid"),
    ):
        with pytest.raises(RuleViolation) as caught:
            parse(raw)
        assert caught.value.code == code
        assert caught.value.params["allowed"]
