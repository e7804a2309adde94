"""``limit`` and ``offset`` as the query string gives them: plain decimal numbers within bounds."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.errors import FieldError, InvalidInput, RuleViolation
from domain.paging import PageRequest, parse_listing, parse_page
from domain.rules.pages import MAX_LIMIT, MAX_OFFSET, parse_limit, parse_offset

PLAIN = re.compile(r"[0-9]+")


@given(st.text(max_size=30) | st.from_regex(r"\A[0-9]{1,12}\Z"))
@example("05")
@example("1e2")
@example("1.0")
@example("+5")
@example("\u0665")
@example("0" * 5000 + "1")
@example("9" * 5000)
def test_a_limit_is_plain_ascii_digits_from_1_to_500(raw: str) -> None:
    significant = raw.lstrip("0") or "0"
    value = int(significant) if PLAIN.fullmatch(raw) and len(significant) < 10 else None
    expected = value if value is not None and 1 <= value <= MAX_LIMIT else None
    try:
        assert parse_limit(raw) == expected
    except RuleViolation as exc:
        assert expected is None, raw
        assert (exc.code, exc.params) == ("query.limit", {"max": MAX_LIMIT})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("000", 0), ("007", 7), (str(MAX_OFFSET), MAX_OFFSET), ("0" * 40 + "12", 12)],
)
def test_an_offset_may_be_zero_and_have_leading_zeros(raw: str, expected: int) -> None:
    assert parse_offset(raw) == expected


@pytest.mark.parametrize("raw", ["", "-1", "-0", " 1", "1 ", "1_000", str(MAX_OFFSET + 1), "1" * 11, None, 5])
def test_anything_else_is_not_an_offset(raw: object) -> None:
    with pytest.raises(RuleViolation, match=r"query\.offset"):
        parse_offset(raw)


def test_absent_values_are_the_defaults() -> None:
    assert parse_page(None, None) == PageRequest(50, 0)
    assert parse_page("7", "14") == PageRequest(7, 14)


def test_the_page_is_named_after_the_filters_errors() -> None:
    def bad_filters() -> None:
        raise InvalidInput([FieldError("status", "status.invalid")])

    with pytest.raises(InvalidInput) as refused:
        parse_listing(bad_filters, "x", "-1")
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("status", "status.invalid"), ("limit", "query.limit"), ("offset", "query.offset"),
    ]  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        parse_listing(lambda: "filters", "1.0", None)
    assert [(e.field, e.code) for e in refused.value.errors] == [("limit", "query.limit")]
    assert parse_listing(lambda: "filters", None, "3") == ("filters", PageRequest(50, 3))
