"""Synthetic patient files for bulk jobs: valid rows with a known share of bad ones.

Deterministic: the same arguments give the same file, and the rejected rows' numbers, fields
and codes are known in advance, so tests and benchmarks can check every count exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nhs_number.validate import calculate_checksum

NAMES = ["Dr Glenn Clark", "Siân Llŷr", "Zoë O'Brien-Smith", "李小龍", "देवनागरी नाम", "Ngozi Okafor", "Åsa Öberg"]
POSTCODES = ["N6 2FA", "WA55 8HE", "m4 2st", "sw1a1aa", "EC1A 1BB", "CF10 1EP", "GIR 0AA"]
FIELDS = ["nhs_number", "name", "date_of_birth", "postcode", "email", "phone"]
# One rule broken per bad row, in turn: (field, code, how the row is spoilt).
BREAKAGES = [
    ("nhs_number", "nhs_number.checksum", "checksum"),
    ("postcode", "postcode.format", "postcode"),
    ("date_of_birth", "date_of_birth.future", "future"),
    ("name", "field.required", "no_name"),
    ("date_of_birth", "date_of_birth.format", "date"),
]


@dataclass(frozen=True)
class Rejection:
    """A row the job must reject: its number (data rows from 1), field and code."""

    row: int
    field: str
    code: str


def nhs_numbers(start: int = 100_000_000) -> Iterator[str]:
    """Valid NHS numbers, in order, from a 9-digit base on (bases whose check digit is 10 are skipped)."""
    base = start
    while True:
        digits = f"{base:09d}"
        check = calculate_checksum(digits)
        if check != 10:
            yield digits + str(check)
        base += 1


def patient_rows(
    count: int, bad_every: int = 20, start: int = 100_000_000, contacts: bool = False
) -> Iterator[tuple[dict[str, str], Rejection | None]]:
    """``count`` patient rows; every ``bad_every``-th breaks one rule (5 % by default).

    Rows have the client's shape (NHS number, name, date of birth, postcode); with ``contacts``
    a third also carry an e-mail address and a quarter a phone number.
    """
    numbers = nhs_numbers(start)
    for index in range(count):
        number = next(numbers)
        row = {
            "nhs_number": number,
            "name": NAMES[index % len(NAMES)],
            "date_of_birth": (dt.date(1930, 1, 1) + dt.timedelta(days=(index * 37) % 30_000)).isoformat(),
            "postcode": POSTCODES[index % len(POSTCODES)],
            "email": f"patient{index}@example.org" if contacts and index % 3 == 0 else "",
            "phone": "07700 900123" if contacts and index % 4 == 0 else "",
        }
        rejection = None
        if bad_every and index % bad_every == bad_every - 1:
            field, code, how = BREAKAGES[(index // bad_every) % len(BREAKAGES)]
            _spoil(row, how)
            rejection = Rejection(index + 1, field, code)
        yield row, rejection


def _spoil(row: dict[str, str], how: str) -> None:
    if how == "checksum":
        row["nhs_number"] = row["nhs_number"][:9] + str((int(row["nhs_number"][9]) + 1) % 10)
    elif how == "postcode":
        row["postcode"] = "NOT A CODE"
    elif how == "future":
        row["date_of_birth"] = "2999-01-01"
    elif how == "no_name":
        row["name"] = ""
    else:
        row["date_of_birth"] = "31/12/1999"


def write_patient_csv(
    path: Path, count: int, bad_every: int = 20, start: int = 100_000_000, contacts: bool = False
) -> list[Rejection]:
    """Write the rows as CSV with a header; return the rows the job must reject."""
    rejections = []
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, FIELDS)
        writer.writeheader()
        for row, rejection in patient_rows(count, bad_every, start, contacts):
            writer.writerow(row)
            if rejection:
                rejections.append(rejection)
    return rejections
