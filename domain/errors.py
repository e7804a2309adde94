"""The errors the domain raises; the API turns them into problem documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, TypeVar

T = TypeVar("T")


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


class Unauthenticated(DomainError):
    """No usable credential came with a request that needs one (``auth.required``, ``auth.invalid``)."""

    status = 401


class Forbidden(DomainError):
    """The actor's roles do not admit the request (``auth.forbidden``)."""

    status = 403


class FieldChecker:
    """Apply rules to several raw values, collecting every violation, so one 400 names them all."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def check(
        self, field: str, raw: Any, rule: Callable[[Any], T], default: T | None = None, *, required: bool = False
    ) -> T | None:
        """``rule(raw)``, or ``default`` when ``raw`` is absent or broke the rule (then recorded).

        ``required``: an absent value goes to the rule too, which names what is missing.
        """
        if raw is None and not required:
            return default
        try:
            return rule(raw)
        except RuleViolation as exc:
            self.errors.append(FieldError(field, exc.code, exc.params))
            return default

    def check_range_order(self, start: Any, end: Any) -> None:
        """A range's end may not come before its start (``to``, ``range.order``), when both were given."""
        if start is not None and end is not None and end < start:
            self.errors.append(FieldError("to", "range.order"))

    def raise_if_any(self) -> None:
        """Raise :class:`InvalidInput` if any check failed."""
        if self.errors:
            raise InvalidInput(self.errors)
