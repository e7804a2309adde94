"""Postcodes: coerced to ``OUT IN`` upper case by shape alone, never looked up."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import RuleViolation
from domain.rules import coerce_postcode

OUTWARD_SHAPES = ["A9", "A99", "AA9", "AA99", "A9A", "AA9A"]
LETTERS, DIGITS = string.ascii_uppercase, string.digits


def rejected_code(raw: object) -> str:
    with pytest.raises(RuleViolation) as caught:
        coerce_postcode(raw)
    return caught.value.code


def fill(shape: str) -> st.SearchStrategy[str]:
    """Random characters of the given A/9 shape."""
    return st.tuples(*(st.sampled_from(LETTERS if c == "A" else DIGITS) for c in shape)).map("".join)


canonical_postcodes = st.one_of(
    st.just("GIR 0AA"),
    st.sampled_from(OUTWARD_SHAPES).flatmap(lambda shape: st.tuples(fill(shape), fill("9AA")).map(" ".join)),
)


def test_spec_example() -> None:
    assert coerce_postcode(" sw1a1aa ") == "SW1A 1AA"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("m11ae", "M1 1AE"),  # A9
        ("b338th", "B33 8TH"),  # A99
        ("cr26xh", "CR2 6XH"),  # AA9
        ("dn551pt", "DN55 1PT"),  # AA99
        ("w1a0ax", "W1A 0AX"),  # A9A
        ("ec1a1bb", "EC1A 1BB"),  # AA9A
        ("gir0aa", "GIR 0AA"),
        ("  Gi R 0 a A ", "GIR 0AA"),
        ("SW1A\t1AA", "SW1A 1AA"),
        ("SW1A\n1AA", "SW1A 1AA"),
        ("S W 1 A 1 A A", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
    ],
)
def test_each_uk_shape_is_coerced_to_standard_form(raw: str, expected: str) -> None:
    assert coerce_postcode(raw) == expected


@given(postcode=canonical_postcodes, data=st.data())
def test_any_case_and_whitespace_coerces_to_the_canonical_form(postcode: str, data: st.DataObject) -> None:
    compact = postcode.replace(" ", "")
    noisy = "".join(
        data.draw(st.text(alphabet=" \t", max_size=2)) + (ch.lower() if data.draw(st.booleans()) else ch)
        for ch in compact
    ) + data.draw(st.text(alphabet=" \t\n", max_size=2))
    assert coerce_postcode(noisy) == postcode


@given(postcode=canonical_postcodes)
def test_coercion_is_idempotent(postcode: str) -> None:
    assert coerce_postcode(coerce_postcode(postcode)) == postcode


@given(postcode=canonical_postcodes, junk=st.sampled_from("-./,#'_é€"), data=st.data())
def test_a_stray_non_alphanumeric_character_is_rejected(postcode: str, junk: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(postcode)))
    assert rejected_code(postcode[:at] + junk + postcode[at:]) == "postcode.format"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "1AA",
        "SW1A",
        "SW1A 1A",  # inward too short
        "SW1A 1AAA",  # inward too long
        "SW1A AAA",  # inward must start with a digit
        "SW1A 11A",  # inward ends in two letters
        "1W1A 1AA",  # outward starts with a letter
        "SWW1 1AA",  # three letters
        "SW 1AA",  # outward without a digit
        "SW123 1AA",  # three digits
        "SW1AA 1AA",  # two trailing letters
        "S1AB 1AA",
        "GIR 0AB",  # only GIR 0AA is special
        "SW1A-1AA",  # a dash is not whitespace
        "ſw1a 1aa",  # long s upper-cases to S: not a postcode character all the same
        "ß1 1aa",  # sharp s upper-cases to SS
        "ＳＷ１Ａ １ＡＡ",  # full-width
    ],
)
def test_invalid_shapes_are_rejected(raw: str) -> None:
    assert rejected_code(raw) == "postcode.format"


@pytest.mark.parametrize("raw", [None, 12345, b"SW1A 1AA"])
def test_non_string_is_a_type_error(raw: object) -> None:
    assert rejected_code(raw) == "postcode.type"


def test_example_patient_postcodes_are_accepted_unchanged(example_patients: list[dict[str, Any]]) -> None:
    for patient in example_patients:
        assert coerce_postcode(patient["postcode"]) == patient["postcode"]


def test_example_appointment_postcodes_are_accepted_unchanged(example_appointments: list[dict[str, Any]]) -> None:
    for appointment in example_appointments:
        assert coerce_postcode(appointment["postcode"]) == appointment["postcode"]
