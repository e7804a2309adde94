"""Messages: every code has an English text, every catalogue translates all of them, q-value negotiation."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

import domain.messages as messages
from domain.inputs import _GENERIC_CODES
from domain.messages import MESSAGES, TITLES, available_languages, message, negotiate_language, title, translations

ALL_PARAMS = {
    "max": 255,
    "min": "1m",
    "earliest": "1870-01-01",
    "latest": 2999,
    "allowed": "active, attended",
    "count": 3,
    "status": "attended",
    "current": "missed",
    "target": "active",
    "when": "Wednesday 4 June 2025 at 16:30",
    "department": "Cardiology",
    "postcode": "N6 2FA",
    "name": "Siân Llŷr",
    "clinician": "Dr Jordan Lewis",
}
RULES_DIR = Path(messages.__file__).parent / "rules"
TRANSLATED = [lang for lang in available_languages() if lang != messages.DEFAULT_LANGUAGE]


def placeholders(template: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


def raised_codes() -> set[str]:
    """Every code the rules raise, read from their source (f-string rule prefixes expanded)."""
    codes: set[str] = set()
    rule_prefixes = {"names.py": ["name", "clinician", "department"], "times.py": ["time", "from", "to"]}
    for source in RULES_DIR.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        codes |= set(re.findall(r"(?:RuleViolation|Conflict)\(\s*\"([a-z_]+\.[a-z_]+)\"", text))
        for suffix in re.findall(r"RuleViolation\(\s*f\"\{rule\}\.([a-z_]+)\"", text):
            codes |= {f"{prefix}.{suffix}" for prefix in rule_prefixes[source.name]}
    return codes


def test_every_code_a_rule_raises_has_a_message() -> None:
    codes = raised_codes()
    assert len(codes) > 20  # the scan itself works
    assert codes - MESSAGES.keys() == set()


def test_every_generic_input_code_has_a_message() -> None:
    assert set(_GENERIC_CODES.values()) - MESSAGES.keys() == set()


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_renders_in_english(code: str) -> None:
    text = message(code, "en", **ALL_PARAMS)
    assert text.strip()
    assert "{" not in text and "}" not in text


def test_parameters_fill_the_english_text() -> None:
    assert message("name.too_long", "en", max=255) == "The name must be at most 255 characters long."
    assert (
        message("status.final", "en", status="cancelled")
        == "This appointment is cancelled; it cannot be changed any more."
    )


def test_unknown_code_falls_back_to_a_generic_message() -> None:
    assert message("no.such_code", "en") == MESSAGES["field.invalid"]


def test_english_titles() -> None:
    assert title(409, "en") == "Conflict"
    assert title(400, "en") == "Invalid input"
    assert title(418, "en") == TITLES[500]


def test_english_is_always_available_and_first() -> None:
    assert available_languages()[0] == "en"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_and_title_is_translated(language: str) -> None:
    catalogue = translations(language)
    untranslated = [t for t in [*MESSAGES.values(), *TITLES.values()] if catalogue.gettext(t) == t]
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    catalogue = translations(language)
    for template in MESSAGES.values():
        assert placeholders(catalogue.gettext(template)) == placeholders(template), template
    for code in MESSAGES:
        rendered = message(code, language, **ALL_PARAMS)
        assert rendered.strip() and "{" not in rendered and "}" not in rendered, code


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalogue_language_is_negotiable(language: str) -> None:
    assert negotiate_language(language) == language
    assert negotiate_language(f"de, {language};q=0.8") == language


@pytest.fixture
def three_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negotiate against en, cy and fr whatever catalogues exist on disk right now."""
    monkeypatch.setattr(messages, "available_languages", lambda: ("en", "cy", "fr"))


@pytest.mark.usefixtures("three_languages")
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("cy", "cy"),
        ("fr", "fr"),
        ("fr;q=0.5, cy", "cy"),
        ("cy;q=0.1, fr;q=0.9", "fr"),
        ("fr;q=0.5,cy;q=0.5", "fr"),  # equal weight: first listed wins
        ("cy-GB", "cy"),
        ("fr-CA, cy;q=0.2", "fr"),
        ("de, ja;q=0.9", "en"),  # nothing supported: English
        ("de, fr;q=0.4", "fr"),
        ("fr;q=0", "en"),  # q=0 means "not acceptable"
        ("cy;q=nonsense", "en"),
        ("*", "en"),
        ("en-GB,en;q=0.9,cy;q=0.8", "en"),
        ("xx-invalid-tag, cy;q=0.3", "cy"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate_language(header) == expected


@pytest.mark.usefixtures("three_languages")
@pytest.mark.parametrize(("header", "expected"), [("CY", "cy"), ("Fr-CA", "fr"), ("FR;q=0.5, Cy", "cy")])
def test_language_tags_are_case_insensitive(header: str, expected: str) -> None:
    assert negotiate_language(header) == expected
