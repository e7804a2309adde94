"""Names: any script kept exactly (after trim and NFC), no control characters, 1-255 code points."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import RuleViolation
from domain.rules import entity_key, normalise_entity_name, normalise_name, search_key


def rejected_code(raw: object, **kwargs: str) -> str:
    with pytest.raises(RuleViolation) as caught:
        normalise_name(raw, **kwargs)
    return caught.value.code


KEPT_EXACTLY = [
    "अनुष्का शर्मा",  # Devanagari with virama conjuncts
    "क्\u200dष",  # Devanagari with an explicit zero-width joiner
    "श्\u200cरी",  # ... and a zero-width non-joiner
    "王秀英",
    "Siân Llŷr ap Gruffudd",  # Welsh diacritics
    "Seán Ó'Brien",
    "Zoë O’Connor-Smith",  # typographic apostrophe, hyphen
    "Jean-Luc Picard",
    "mcDONALD de la Cruz",  # never re-cased
    "👩\u200d⚕\ufe0f Dr Who",  # emoji with ZWJ and variation selector
    "👨\u200d👩\u200d👧\u200d👦",  # family emoji sequence
    "Александра Петрова",
    "محمد علي",
    "Ngũgĩ wa Thiong'o",
]


@pytest.mark.parametrize("name", KEPT_EXACTLY)
def test_names_in_any_script_are_kept_byte_for_byte(name: str) -> None:
    assert unicodedata.is_normalized("NFC", name)  # the fixture itself is already NFC
    assert normalise_name(name).encode("utf-8") == name.encode("utf-8")


def test_decomposed_input_comes_back_composed() -> None:
    decomposed = "Rene\u0301e Ze\u0301"
    result = normalise_name(decomposed)
    assert result == "Renée Zé"
    assert "\u0301" not in result
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize(
    ("raw", "expected"), [("  Ann Smith  ", "Ann Smith"), ("\tAnn\u00a0", "Ann"), ("Ann\n", "Ann")]
)
def test_surrounding_whitespace_is_trimmed_inner_spacing_kept(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected
    assert normalise_name("Ann  Smith") == "Ann  Smith"


@pytest.mark.parametrize(
    "raw",
    [
        "Ann\x00Smith",
        "\x00",
        "Ann\nSmith",
        "Ann\r\nSmith",
        "Ann\tSmith",
        "Ann\x7fSmith",
        "Ann\x85Smith",
        "Ann\u2028Smith",
        "Ann\u2029Smith",
        "\x1b[31mAnn",
        "Ann\x9fSmith",
    ],
)
def test_control_characters_and_line_separators_are_rejected(raw: str) -> None:
    assert rejected_code(raw) == "name.control_character"


@given(control=st.characters(categories=["Cc"]).filter(lambda c: not c.isspace()))
def test_every_non_whitespace_control_character_is_rejected_even_at_the_edges(control: str) -> None:
    assert rejected_code(control + "Ann") == "name.control_character"
    assert rejected_code("Ann" + control) == "name.control_character"


@pytest.mark.parametrize("letter", ["a", "é", "王", "😀"])
def test_255_code_points_accepted_256_rejected(letter: str) -> None:
    assert normalise_name(letter * 255) == letter * 255
    assert rejected_code(letter * 256) == "name.too_long"


def test_length_counts_after_trimming_and_nfc() -> None:
    assert normalise_name("  " + "a" * 255 + "  ") == "a" * 255
    assert normalise_name("e\u0301" * 255) == "é" * 255  # 510 code points in, 255 once composed


@pytest.mark.parametrize("raw", ["", " ", "   \t ", "\u3000", "\n"])
def test_empty_or_whitespace_only_is_rejected(raw: str) -> None:
    assert rejected_code(raw) == "name.empty"


@pytest.mark.parametrize("raw", [None, 42, ["Ann"], b"Ann"])
def test_non_string_is_a_type_error(raw: object) -> None:
    assert rejected_code(raw) == "name.type"


def test_clinician_and_department_names_report_their_own_codes() -> None:
    with pytest.raises(RuleViolation) as caught:
        normalise_entity_name("  ", rule="clinician")
    assert caught.value.code == "clinician.empty"
    with pytest.raises(RuleViolation) as caught:
        normalise_entity_name("Onc\nology", rule="department")
    assert caught.value.code == "department.control_character"
    assert normalise_entity_name(" Bethany Rice-Hammond ", rule="clinician") == "Bethany Rice-Hammond"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("STRASSE", "Straße"),
        ("strasse", "STRASSE"),
        ("σίσυφος", "ΣΊΣΥΦΟΣ"),  # final sigma folds to sigma
        ("RÉMY", "Re\u0301my"),  # composed query finds decomposed input
        ("siân", "SIÂN"),
        ("अनुष्का", "अनुष्का"),
    ],
)
def test_search_key_matches_by_unicode_case_folding(query: str, name: str) -> None:
    assert search_key(query) == search_key(name)


def test_search_key_supports_substring_search() -> None:
    assert search_key("strasse") in search_key("Herr Karl Straßenbauer")
    assert search_key("HALL") in search_key("Dr Ian Hall")
    assert search_key("王") in search_key("王秀英")


@given(text=st.text(max_size=30))
def test_search_key_is_idempotent(text: str) -> None:
    assert search_key(search_key(text)) == search_key(text)


@pytest.mark.parametrize(("a", "b"), [("Oncology", "oncology"), (" Dr  SMITH ", "dr smith"), ("Straße", "STRASSE")])
def test_entity_key_matches_case_insensitively_after_trimming(a: str, b: str) -> None:
    assert entity_key(a) == entity_key(b)


def test_entity_key_distinguishes_different_names() -> None:
    assert entity_key("Cardiology") != entity_key("Cardiologie")
    assert entity_key("Jason Holloway") != entity_key("Jason Hollaway")


def test_the_forbidden_character_class_is_exactly_category_cc_and_the_separators() -> None:
    import sys
    import unicodedata

    from domain.rules.names import _FORBIDDEN

    forbidden = {chr(i) for i in range(sys.maxunicode + 1) if _FORBIDDEN.match(chr(i))}
    expected = {chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)) == "Cc"}
    assert forbidden == expected | {"\u2028", "\u2029"}
