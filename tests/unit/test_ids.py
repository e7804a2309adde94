"""``read_uuid``: every ASCII form ``uuid.UUID`` reads, and nothing written in other scripts' digits."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rules.ids import read_uuid

# Characters int() reads as digits though they are not ASCII: Arabic-Indic, Devanagari, fullwidth.
FOREIGN_DIGITS = st.sampled_from(["\u0661", "\u0967", "\uff11", "\u0669", "\uff10"])


@given(st.uuids())
def test_every_ascii_form_reads_back(value: uuid.UUID) -> None:
    for text in (str(value), value.hex, str(value).upper(), f"{{{value}}}", f"urn:uuid:{value}"):
        assert read_uuid(text) == value


@given(st.uuids(), st.integers(min_value=0, max_value=31), FOREIGN_DIGITS)
def test_a_digit_of_another_script_is_refused(value: uuid.UUID, at: int, digit: str) -> None:
    text = value.hex[:at] + digit + value.hex[at + 1 :]
    with pytest.raises(ValueError):
        read_uuid(text)  # uuid.UUID(text) alone reads it


def test_uuid_alone_reads_other_scripts_digits() -> None:
    """Why the rule exists: the standard library names 1111…-… for thirty-two Arabic-Indic ones."""
    assert uuid.UUID("\u0661" * 32) == uuid.UUID("1" * 32)
    with pytest.raises(ValueError):
        read_uuid("\u0661" * 32)


@pytest.mark.parametrize(
    "text",
    [
        "+" + "1" * 31,  # int() takes a sign: named 01111111-…
        "0x" + "a" * 30,
        "1_" + "1" * 30,
        " " + "2" * 31,
        "{" + "3" * 32,
        "4" * 32 + "}",
        "12345678-1234-1234-1234123412341234",  # hyphens in some places only
        "5" * 31,
        "6" * 33,
        "",
    ],
)
def test_loose_spellings_uuid_would_read_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        read_uuid(text)
