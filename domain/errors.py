"""The errors the domain raises; the API turns them into problem documents."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


class RuleViolation(ValueError):
    """A single value broke a data rule; ``code`` is stable, ``params`` fill its message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FieldError:
    """One bad field of an input, as reported to the client."""

    field: str
    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    """Base of every error a use case reports to its caller."""

    status = 400

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class InvalidInput(DomainError):
    """The input broke one or more rules; every bad field is listed."""

    status = 400

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors[0].code if errors else "input.invalid")
        self.errors = errors


class NotFound(DomainError):
    """No such resource exists."""

    status = 404


class Conflict(DomainError):
    """The request clashes with stored state (duplicate, overlap, forbidden change)."""

    status = 409
