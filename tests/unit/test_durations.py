"""Durations: ``15m``, ``1h30m``, ``90m``, ``PT1H30M``; 1 minute to 12 hours; written as ``1h30m``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import RuleViolation
from domain.rules import format_duration, parse_duration
from domain.rules.durations import parse_minutes


def rejected_code(raw: object) -> str:
    with pytest.raises(RuleViolation) as caught:
        parse_duration(raw)
    return caught.value.code


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [
        ("15m", 15),
        ("30m", 30),
        ("1h", 60),
        ("1h30m", 90),
        ("2h", 120),
        ("90m", 90),
        ("PT1H30M", 90),
        ("PT45M", 45),
        ("PT2H", 120),
        ("pt1h30m", 90),
        ("1H30M", 90),
        ("1h 30m", 90),
        (" 45m ", 45),
        ("PT120S", 2),
        ("0h15m", 15),
    ],
)
def test_accepted_syntaxes(raw: str, minutes: int) -> None:
    assert parse_duration(raw) == minutes


def test_every_duration_of_the_example_data_parses(example_appointments: list[dict[str, Any]]) -> None:
    for appointment in example_appointments:
        assert 1 <= parse_duration(appointment["duration"]) <= 720


@pytest.mark.parametrize(("raw", "minutes"), [("1m", 1), ("PT1M", 1), ("12h", 720), ("720m", 720), ("11h60m", 720)])
def test_bounds_are_inclusive(raw: str, minutes: int) -> None:
    assert parse_duration(raw) == minutes


@pytest.mark.parametrize("raw", ["0m", "0h", "PT0M", "12h1m", "721m", "13h", "PT12H1M", "24h", "100000h"])
def test_out_of_range_is_rejected(raw: str) -> None:
    assert rejected_code(raw) == "duration.range"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "h",
        "m",
        "PT",
        "P",
        "15",
        "1.5h",
        "-15m",
        "+15m",
        "15 minutes",
        "1h30",
        "30m1h",
        "1d",
        "P1D",
        "PT30S",
        "PT1M30S",
        "1h-30m",
        "h30m",
        "15mm",
        "1hh",
        "00:15",
        "1" * 5000 + "m",
        "\u0669\u0660m",  # other scripts' digits (Arabic-Indic 90), which int() would read
        "PT\u0661H",
        "\uff11\uff15m",  # fullwidth 15
        "PT90M0\u017f",  # a long s, which a Unicode IGNORECASE takes for S
    ],
)
def test_malformed_is_rejected_as_format(raw: str) -> None:
    assert rejected_code(raw) == "duration.format"


@pytest.mark.parametrize("raw", [None, 15, 1.5, ["15m"]])
def test_non_string_is_a_format_error(raw: object) -> None:
    assert rejected_code(raw) == "duration.format"


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(1, "1m"), (15, "15m"), (45, "45m"), (60, "1h"), (90, "1h30m"), (120, "2h"), (61, "1h1m"), (720, "12h")],
)
def test_format_is_the_1h30m_style(minutes: int, text: str) -> None:
    assert format_duration(minutes) == text


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("90m", "1h30m"), ("PT1H30M", "1h30m"), ("60m", "1h"), ("PT45M", "45m"), ("120m", "2h"), ("1h 0m", "1h")],
)
def test_round_trip_gives_the_canonical_form(raw: str, canonical: str) -> None:
    assert format_duration(parse_duration(raw)) == canonical


@given(minutes=st.integers(min_value=1, max_value=720))
def test_round_trip_for_every_allowed_length(minutes: int) -> None:
    text = format_duration(minutes)
    assert parse_duration(text) == minutes
    assert format_duration(parse_duration(text)) == text  # canonical form is a fixed point
    hours, rest = divmod(minutes, 60)
    assert parse_duration(f"PT{hours}H{rest}M") == minutes
    assert parse_duration(f"{minutes}m") == minutes


def test_parse_minutes_has_no_appointment_range() -> None:
    # The same syntax serves reminder offsets, which may exceed 12 hours (e.g. a week before).
    assert parse_minutes("24h") == 1440
    assert parse_minutes("168h") == 168 * 60
    assert parse_minutes("0m") == 0
    with pytest.raises(RuleViolation) as caught:
        parse_minutes("soon")
    assert caught.value.code == "duration.format"
