"""What one chunk found: its counts and its rejected rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.errors import FieldError


@dataclass
class ChunkOutcome:
    """Counts of a chunk; ``duplicates`` are valid rows too, ``imported`` the rows stored."""

    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    imported: int = 0
    errors: list[tuple[int, FieldError]] = field(default_factory=list)

    def reject(self, row_number: int, errors: Iterable[FieldError]) -> None:
        """Row ``row_number`` breaks a rule: one more invalid row, with every error it has."""
        self.invalid += 1
        self.errors.extend((row_number, error) for error in errors)

    def duplicate(self) -> None:
        """A valid row whose key is already stored or earlier in the file."""
        self.valid += 1
        self.duplicates += 1

    def counts(self) -> dict[str, int]:
        """The counts as stored on the chunk."""
        return {"valid": self.valid, "invalid": self.invalid, "duplicates": self.duplicates, "imported": self.imported}
