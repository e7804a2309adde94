"""A patient's changed details, sealed in their audit events with a key that erasure destroys.

SPEC §9 keeps every event forever and never changes one (a trigger refuses it on PostgreSQL);
SPEC §3 and §9 also say that after erasure the NHS number is the only personal value left.
Both hold by crypto-shredding: an ``update`` of a patient stores the event's ``changes`` as
``{"fields": [...], "sealed": …}``, the values encrypted (AES-GCM, bound to the NHS number)
with a random key of that patient's (``patient_audit_key``). Erasure deletes the key in the
erasure's own transaction; from then on the event shows which fields changed, never to what.
Which fields changed is not personal; the values are.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, delete, insert, select

from domain.models import PatientAuditKey, table
from domain.random_ids import random_bytes
from domain.sql import Query, SqlRunner

KEYS = table(PatientAuditKey)
KEY_OF = Query(select(KEYS.c.key).where(KEYS.c.patient == bindparam("patient")))
INSERT_KEY = Query(insert(KEYS).values(patient=bindparam("patient"), key=bindparam("key")))
DELETE_KEY = Query(delete(KEYS).where(KEYS.c.patient == bindparam("patient")))
_NONCE_BYTES = 12
# What a field of an erased patient's event shows: it changed; its values are gone.
ERASED_VALUE = {"from": None, "to": None, "erased": True}


def seal(key: bytes, patient: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` as stored: the field names in clear, the values encrypted under ``key``."""
    nonce = random_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, msgspec.json.encode(changes), patient.encode())
    return {"fields": sorted(changes), "sealed": base64.b64encode(nonce + sealed).decode()}


def unseal(stored: Mapping[str, Any], patient: str | None, key: bytes | None) -> dict[str, Any]:
    """The changes as recorded, or (the key erased) each field marked :data:`ERASED_VALUE`."""
    if "sealed" not in stored:
        return dict(stored)  # nothing personal was sealed (an appointment's change, or none)
    if key is not None and patient is not None and stored["sealed"]:  # "": reduced when already erased
        blob = base64.b64decode(stored["sealed"])
        try:
            opened = AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], patient.encode())
        except InvalidTag:  # sealed under an erased patient's key, the number since reused
            pass
        else:
            return dict(msgspec.json.decode(opened))
    return {field: dict(ERASED_VALUE) for field in stored["fields"]}


async def seal_patient_changes(sql: SqlRunner, patient: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` sealed under the patient's key, made on first need (call with the patient locked)."""
    if not changes:
        return {}
    key = await sql.scalar(KEY_OF, patient=patient)
    if key is None:
        key = AESGCM.generate_key(bit_length=256)
        await sql.execute(INSERT_KEY, patient=patient, key=key)
    return seal(bytes(key), patient, changes)


async def keys_of(sql: SqlRunner, patients: Iterable[str | None]) -> dict[str, bytes]:
    """The keys of those ``patients`` not erased."""
    wanted = sorted({p for p in patients if p})
    if not wanted:
        return {}
    rows = await sql.fetch_all(select(KEYS).where(KEYS.c.patient.in_(wanted)))
    return {row["patient"]: bytes(row["key"]) for row in rows}


async def forget_patient_key(sql: SqlRunner, patient: str) -> None:
    """Erasure: the patient's sealed values can never be read again."""
    await sql.execute(DELETE_KEY, patient=patient)
