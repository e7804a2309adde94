"""Instants need a UTC offset and come back in UTC; dates of birth lie between 1870 and today."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import RuleViolation
from domain.rules import check_date_of_birth, parse_aware_datetime, to_utc_iso
from domain.rules.dates import today_in_london

UTC = dt.UTC


def time_code(raw: object, **kwargs: str) -> str:
    with pytest.raises(RuleViolation) as caught:
        parse_aware_datetime(raw, **kwargs)
    return caught.value.code


def dob_code(raw: object, today: dt.date | None = None) -> str:
    with pytest.raises(RuleViolation) as caught:
        check_date_of_birth(raw, today=today)
    return caught.value.code


# --- instants -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2025-06-04T16:30:00", "2025-06-04T16:30", "2025-06-04T16:30:00.123456"])
def test_a_timestamp_without_offset_is_rejected(raw: str) -> None:
    assert time_code(raw) == "time.offset_required"


def test_a_naive_datetime_object_is_rejected() -> None:
    assert time_code(dt.datetime(2025, 6, 4, 16, 30)) == "time.offset_required"


@pytest.mark.parametrize("raw", ["2025-06-04T16:30:00Z", "2025-06-04T16:30:00+00:00", "2025-06-04T16:30:00.000Z"])
def test_z_and_zero_offset_mean_utc(raw: str) -> None:
    assert parse_aware_datetime(raw) == dt.datetime(2025, 6, 4, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2025-06-04T16:30:00+01:00", dt.datetime(2025, 6, 4, 15, 30, tzinfo=UTC)),
        ("2025-01-01T00:30:00+01:00", dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC)),
        ("2025-06-04T10:00:00-05:30", dt.datetime(2025, 6, 4, 15, 30, tzinfo=UTC)),
    ],
)
def test_an_offset_is_converted_to_the_same_instant_in_utc(raw: str, utc: dt.datetime) -> None:
    parsed = parse_aware_datetime(raw)
    assert parsed == utc
    assert parsed.utcoffset() == dt.timedelta(0)
    assert to_utc_iso(parsed) == utc.isoformat()
    assert to_utc_iso(parsed).endswith("+00:00")


def test_example_times_keep_their_instant(example_appointments: list[dict[str, Any]]) -> None:
    for appointment in example_appointments:
        original = dt.datetime.fromisoformat(appointment["time"])
        parsed = parse_aware_datetime(appointment["time"])
        assert parsed == original
        assert parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "now",
        "2025-06-04",
        "16:30:00+01:00",
        "2025-13-04T16:30:00Z",
        "2025-06-31T16:30:00Z",
        "2025-06-04T25:30:00Z",
        "2025-06-04T16:30:00+25:00",
        1717515000,
        None,
    ],
)
def test_unreadable_timestamps_are_a_format_error(raw: object) -> None:
    assert time_code(raw) == "time.format"


@pytest.mark.parametrize("raw", ["0001-01-01T00:30:00+01:00", "1899-12-31T23:59:59Z", "9999-12-31T23:30:00Z"])
def test_implausible_years_are_out_of_range(raw: str) -> None:
    # 9999-12-31T23:30Z plus a 12 h duration would overflow; such years are refused up front.
    assert time_code(raw) == "time.range"


def test_rule_name_prefixes_the_code() -> None:
    assert time_code("nope", rule="from") == "from.format"
    assert time_code("2025-06-04T16:30:00", rule="to") == "to.offset_required"


@given(
    instant=st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(UTC)),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_any_offset_denotes_the_same_instant(instant: dt.datetime, offset_minutes: int) -> None:
    local = instant.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    parsed = parse_aware_datetime(local.isoformat())
    assert parsed == instant
    assert to_utc_iso(parsed) == instant.isoformat()


@given(
    instant=st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
    offset_minutes=st.one_of(st.none(), st.integers(min_value=-1439, max_value=1439)),
)
def test_to_utc_iso_writes_what_isoformat_writes_in_utc(instant: dt.datetime, offset_minutes: int | None) -> None:
    # The fast form of the rule against its plain definition, naive (UTC) and aware of any offset.
    if offset_minutes is None:
        assert to_utc_iso(instant) == instant.replace(tzinfo=UTC).isoformat()
        return
    aware = instant.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)))
    try:
        expected = aware.astimezone(UTC).isoformat()
    except OverflowError:  # before year 1 or after 9999 in UTC: no such instant either way
        return
    assert to_utc_iso(aware) == expected


def test_to_utc_iso_always_writes_plus_zero() -> None:
    aware = dt.datetime(2025, 6, 4, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert to_utc_iso(aware) == "2025-06-04T15:30:00+00:00"
    assert to_utc_iso(dt.datetime(2025, 6, 4, 15, 30)) == "2025-06-04T15:30:00+00:00"  # naive = UTC
    assert to_utc_iso(dt.datetime(2025, 6, 4, 15, 30, tzinfo=UTC)) == "2025-06-04T15:30:00+00:00"


# --- dates of birth ------------------------------------------------------------------------------

TODAY = dt.date(2025, 6, 4)


def test_today_is_accepted_tomorrow_is_future() -> None:
    assert check_date_of_birth("2025-06-04", today=TODAY) == TODAY
    assert dob_code("2025-06-05", today=TODAY) == "date_of_birth.future"
    assert dob_code("2999-01-01", today=TODAY) == "date_of_birth.future"


def test_1870_is_the_earliest_birth_date() -> None:
    assert check_date_of_birth("1870-01-01", today=TODAY) == dt.date(1870, 1, 1)
    with pytest.raises(RuleViolation) as caught:
        check_date_of_birth("1869-12-31", today=TODAY)
    assert caught.value.code == "date_of_birth.too_early"
    assert caught.value.params == {"earliest": "1870-01-01"}


def test_without_explicit_today_the_london_date_is_used() -> None:
    today = today_in_london()
    assert check_date_of_birth(today.isoformat()) == today
    assert dob_code((today + dt.timedelta(days=1)).isoformat()) == "date_of_birth.future"


@pytest.mark.parametrize(
    ("now", "london_date"),
    [
        (dt.datetime(2024, 6, 30, 23, 30, tzinfo=UTC), dt.date(2024, 7, 1)),  # BST: already tomorrow
        (dt.datetime(2024, 1, 1, 23, 30, tzinfo=UTC), dt.date(2024, 1, 1)),  # GMT: same day
    ],
)
def test_today_is_the_calendar_date_in_london(now: dt.datetime, london_date: dt.date) -> None:
    assert today_in_london(now) == london_date


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "yesterday",
        "01/02/1990",
        "04-06-1990",
        "1990-13-01",
        "1990-02-30",
        "1990-1-1",
        "1990-01-01T00:00:00",
        19900101,
        None,
        dt.datetime(1990, 1, 1),
    ],
)
def test_bad_formats_are_rejected(raw: object) -> None:
    assert dob_code(raw, today=TODAY) == "date_of_birth.format"


def test_date_object_and_surrounding_spaces_are_accepted() -> None:
    assert check_date_of_birth(dt.date(1990, 1, 1), today=TODAY) == dt.date(1990, 1, 1)
    assert check_date_of_birth(" 1990-01-01 ", today=TODAY) == dt.date(1990, 1, 1)


def test_every_example_patient_birth_date_is_accepted(example_patients: list[dict[str, Any]]) -> None:
    for patient in example_patients:
        assert check_date_of_birth(patient["date_of_birth"]).isoformat() == patient["date_of_birth"]
