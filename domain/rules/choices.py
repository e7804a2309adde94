"""One rule for every closed set of words a client may send (status, kind, mode, period, group_by)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from domain.errors import RuleViolation

E = TypeVar("E", bound=StrEnum)


def parse_choice(choices: type[E], raw: Any, code: str) -> E:
    """One of ``choices``' values exactly (case and spacing included), else ``code`` listing them."""
    try:
        return choices(raw)
    except ValueError:
        raise RuleViolation(code, allowed=", ".join(choice.value for choice in choices)) from None
