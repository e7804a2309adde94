"""Sealing a patient's changed details (domain/audit/sealing.py): readable with the patient's key,
only which fields changed without it, and no value visible in what is stored."""

from __future__ import annotations

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from domain.audit.sealing import ERASED_VALUE, seal, unseal

FIELDS = st.sampled_from(["name", "email", "phone", "postcode", "date_of_birth", "language"])
VALUES = st.one_of(st.none(), st.text(min_size=4, max_size=40))
CHANGES = st.dictionaries(FIELDS, st.fixed_dictionaries({"from": VALUES, "to": VALUES}), min_size=1)
KEY = AESGCM.generate_key(bit_length=256)


@given(CHANGES)
def test_sealed_changes_open_with_the_key_and_hide_every_value(changes) -> None:
    stored = msgspec.json.decode(msgspec.json.encode(seal(KEY, "9434765919", changes)))
    assert unseal(stored, "9434765919", KEY) == changes
    assert stored["fields"] == sorted(changes)
    # The field names are shown by design (a value may be part of one, "post" of "postcode"); all
    # else stored is the sealed text, where no value may appear.
    assert set(stored) == {"fields", "sealed"}
    text = msgspec.json.encode(stored["sealed"]).decode()
    for change in changes.values():
        for value in change.values():
            if value is not None and len(value.strip()) >= 4:
                assert msgspec.json.encode(value).decode()[1:-1] not in text


@given(CHANGES)
def test_without_the_key_only_the_changed_fields_remain(changes) -> None:
    stored = seal(KEY, "9434765919", changes)
    assert unseal(stored, "9434765919", None) == dict.fromkeys(changes, ERASED_VALUE)
    other_key = AESGCM.generate_key(bit_length=256)
    assert unseal(stored, "9434765919", other_key) == dict.fromkeys(changes, ERASED_VALUE)
    # Bound to its patient: another patient's key row cannot be used to open it.
    assert unseal(stored, "4010232137", KEY) == dict.fromkeys(changes, ERASED_VALUE)


def test_unsealed_changes_pass_through() -> None:
    appointment_change = {"status": {"from": "active", "to": "cancelled"}}
    assert unseal(appointment_change, "9434765919", None) == appointment_change
    assert unseal({}, None, None) == {}


def test_changes_reduced_before_sealing_stay_erased_even_beside_a_new_key() -> None:
    """Migration 0013 keeps only the field names of an erased patient's earlier changes; a number
    registered again (a new key) still reads them as erased."""
    reduced = {"fields": ["name"], "sealed": ""}
    assert unseal(reduced, "9434765919", KEY) == {"name": ERASED_VALUE}
