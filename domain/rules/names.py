"""Names: patients' free text kept exactly; clinicians and departments matched loosely."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from domain.errors import RuleViolation

MAX_NAME_LENGTH = 255
# Unicode category Cc is exactly U+0000–U+001F and U+007F–U+009F; with the line and paragraph
# separators, that is everything a name may not hold (a compiled class checks it at C speed).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def normalise_name(raw: Any, *, rule: str = "name") -> str:
    """NFC-normalise and trim a name; reject empty, over-long or control characters.

    Format characters (category Cf, e.g. zero-width joiners in emoji and Indic scripts) stay.
    """
    if not isinstance(raw, str):
        raise RuleViolation(f"{rule}.type")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise RuleViolation(f"{rule}.empty")
    if len(name) > MAX_NAME_LENGTH:
        raise RuleViolation(f"{rule}.too_long", max=MAX_NAME_LENGTH)
    if _FORBIDDEN.search(name):
        raise RuleViolation(f"{rule}.control_character")
    return name


def check_search_text(raw: str, *, rule: str) -> str:
    """A name to search by: no control characters, which no stored name holds (and PostgreSQL refuses NUL)."""
    if _FORBIDDEN.search(raw):
        raise RuleViolation(f"{rule}.control_character")
    return raw


def search_key(text: str) -> str:
    """The form names are searched by: NFC then full Unicode case folding, any script."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def normalise_entity_name(raw: Any, *, rule: str) -> str:
    """A clinician's or department's display name: the same rules as a patient's name."""
    return normalise_name(raw, rule=rule)


def entity_key(name: str) -> str:
    """Clinicians and departments are the same entity when their trimmed, case-folded names match."""
    return search_key(" ".join(name.split()))
