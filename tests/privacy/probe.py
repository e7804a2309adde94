"""Distinctive patient data, and every written form of it a log line could hold.

Each value is unlikely to appear in a log by chance, so finding one means it leaked. A value
is searched as sent, normalised, upper and lower case, and as JSON escapes it (structured logs
write ``Ö`` as ``\\u00d6``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.factories import valid_nhs_numbers


@dataclass(frozen=True)
class Person:
    """One test patient's personal data."""

    nhs_number: str
    name: str
    date_of_birth: str
    postcode: str  # as sent: lower case, odd spacing
    email: str
    phone: str  # UK national form as sent
    tokens: tuple[str, ...] = field(default=())  # distinctive parts of the name

    def body(self) -> dict[str, str]:
        """``POST /patients`` body, NHS number in the spaced form a receptionist types."""
        spaced = f"{self.nhs_number[:3]} {self.nhs_number[3:6]} {self.nhs_number[6:]}"
        return {
            "nhs_number": spaced,
            "name": self.name,
            "date_of_birth": self.date_of_birth,
            "postcode": self.postcode,
            "email": self.email,
            "phone": self.phone,
        }

    def forms(self) -> set[str]:
        """Every string whose presence in a log would reveal this person."""
        number = self.nhs_number
        postcode = " ".join(self.postcode.split()).upper()
        compact = postcode.replace(" ", "")
        digits = self.phone.replace(" ", "")
        values = {
            number,
            f"{number[:3]} {number[3:6]} {number[6:]}",
            f"{number[:3]}-{number[3:6]}-{number[6:]}",
            self.name,
            *self.tokens,
            self.date_of_birth,
            self.date_of_birth.replace("-", ""),
            self.postcode,
            postcode,
            compact,
            self.email,
            self.email.split("@")[0],
            self.phone,
            digits,
            "+44" + digits[1:],
        }
        cased = {v.lower() for v in values} | {v.upper() for v in values}
        escaped = {json.dumps(v)[1:-1] for v in values | cased}
        return values | cased | escaped


def people() -> list[Person]:
    """Four patients, names in several scripts; contact details in the reserved test ranges."""
    numbers = valid_nhs_numbers(912_345_000)
    return [
        Person(next(numbers), "Zebediah Quixotic-Marmaduke", "1931-02-27", "ze2  9qx",
               "zebediah.quixotic@privacy-probe.example", "07700 900917", ("Quixotic", "Marmaduke")),
        Person(next(numbers), "Ysolde Ffion ap Rhys-Wrenhaven", "1947-11-03", "kw17 2pq",
               "ysolde.wrenhaven@privacy-probe.example", "07700 900823", ("Wrenhaven", "Ysolde")),
        Person(next(numbers), "Öykü Çağlayan Vexillum", "1962-06-19", " hs8 5rw ",
               "oyku.vexillum@privacy-probe.example", "07700 900746", ("Vexillum", "Çağlayan")),
        Person(next(numbers), "अनन्या Quillfeather 李明", "2001-09-30", "iv51 9yx",
               "ananya.quillfeather@privacy-probe.example", "07700 900652", ("Quillfeather", "अनन्या", "李明")),
    ]  # fmt: skip


def leaks(text: str, persons: list[Person]) -> dict[str, list[str]]:
    """``{name: [forms found in text]}`` for every person some form of whom appears."""
    found = {p.name: sorted(form for form in p.forms() if form and form in text) for p in persons}
    return {name: forms for name, forms in found.items() if forms}
