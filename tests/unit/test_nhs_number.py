"""NHS number: ten digits, spaces and dashes tolerated, the modulus-11 check digit and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nhs_number.validate import calculate_checksum

from domain.errors import RuleViolation
from domain.rules import normalise_nhs_number
from domain.rules.nhs_number import check_digit as fast_check_digit

WEIGHTS = range(10, 1, -1)  # the NHS weights of the first nine digits


def check_digit(nine: str) -> int:
    """Independent oracle for the modulus-11 rule (10 means: no valid number has this prefix)."""
    remainder = sum(int(d) * w for d, w in zip(nine, WEIGHTS, strict=True)) % 11
    return (11 - remainder) % 11


valid_numbers = (
    st.text(alphabet="0123456789", min_size=9, max_size=9)
    .filter(lambda nine: check_digit(nine) != 10)
    .map(lambda nine: nine + str(check_digit(nine)))
)
separators = st.text(alphabet=" -", max_size=3)


def rejected_code(raw: object) -> str:
    with pytest.raises(RuleViolation) as caught:
        normalise_nhs_number(raw)
    return caught.value.code


@given(number=valid_numbers, data=st.data())
def test_every_valid_number_is_accepted_with_spaces_and_dashes_anywhere(number: str, data: st.DataObject) -> None:
    decorated = "".join(data.draw(separators) + digit for digit in number) + data.draw(separators)
    assert normalise_nhs_number(decorated) == number


@given(number=valid_numbers)
def test_every_single_digit_change_is_rejected(number: str) -> None:
    for position in range(10):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            assert rejected_code(typo) == "nhs_number.checksum", typo


@given(number=valid_numbers)
def test_every_adjacent_transposition_is_rejected(number: str) -> None:
    for i in range(9):
        if number[i] == number[i + 1]:
            continue
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        assert rejected_code(swapped) == "nhs_number.checksum", swapped


def _prefix_needing_check_digit_10(eight: str) -> str | None:
    """Complete eight digits with a ninth whose modulus-11 check digit would be 10, if one exists."""
    return next((eight + d for d in "0123456789" if check_digit(eight + d) == 10), None)


# Built rather than filtered: only about one prefix in eleven needs a check digit of 10.
prefixes_needing_10 = (
    st.text(alphabet="0123456789", min_size=8, max_size=8).map(_prefix_needing_check_digit_10).filter(bool)
)


@given(nine=prefixes_needing_10)
def test_a_prefix_whose_check_digit_would_be_10_has_no_valid_number(nine: str) -> None:
    assert check_digit(nine) == 10
    for last in "0123456789":
        assert rejected_code(nine + last) == "nhs_number.checksum"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        ("  943 476-5919  ", "9434765919"),
        ("0021403597", "0021403597"),  # leading zeros are kept: it is an identifier, not a number
    ],
)
def test_documented_input_formats_are_normalised_to_ten_digits(raw: str, expected: str) -> None:
    assert normalise_nhs_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "943476591",  # nine digits
        "94347659190",  # eleven digits
        "943476591X",
        "X434765919",
        "943.476.5919",
        "943/476/5919",
        "+449434765919",
        "９４３４７６５９１９",  # full-width digits are not ASCII digits
        "९४३४७६५९१९",  # Devanagari digits
    ],
)
def test_wrong_length_or_characters_are_a_format_error(raw: str) -> None:
    assert rejected_code(raw) == "nhs_number.format"


@pytest.mark.parametrize("raw", [9434765919, None, 9434765919.0, ["9434765919"]])
def test_non_string_is_a_type_error(raw: object) -> None:
    assert rejected_code(raw) == "nhs_number.type"


def test_scottish_chi_range_numbers_without_a_real_birth_date_are_accepted() -> None:
    # 0101000000-3112999999 is the CHI range; 300200... starts with 30 February, no real date,
    # which the nhs-number package's is_valid refuses. The contract asks for the checksum alone.
    number = "3002000000"
    assert check_digit(number[:9]) == int(number[9])
    assert normalise_nhs_number(number) == number


def test_all_example_patients_numbers_are_accepted_unchanged(example_patients: list[dict[str, Any]]) -> None:
    numbers = [patient["nhs_number"] for patient in example_patients]
    assert len(numbers) == 100
    assert [normalise_nhs_number(n) for n in numbers] == numbers


def test_all_example_appointments_patients_are_valid_numbers(example_appointments: list[dict[str, Any]]) -> None:
    for appointment in example_appointments:
        assert normalise_nhs_number(appointment["patient"]) == appointment["patient"]


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_the_fast_check_digit_equals_the_nhs_number_packages(nine: str) -> None:
    # domain.rules.nhs_number.check_digit is a faster form of the package's rule: the same answers.
    assert fast_check_digit(nine) == calculate_checksum(nine) == check_digit(nine)
