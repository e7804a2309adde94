"""Patient audit keys (SPEC §3, §9): a patient's changed details are sealed in their audit events
with a key of their own, which erasure deletes.

Patient updates recorded before this revision hold their values in clear: they are sealed here
under their patient's new key or, the patient already erased, reduced to which fields changed.
On PostgreSQL the append-only trigger is switched off for that one rewrite, inside the migration's
transaction.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.audit.sealing import seal

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_audit_key",
        sa.Column("patient", sa.String(length=10), nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("patient", name=op.f("pk_patient_audit_key")),
    )
    _seal_earlier_patient_changes(op.get_bind())


def _seal_earlier_patient_changes(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT id, patient, changes FROM audit_event WHERE resource_type = 'Patient' "
            "AND action = 'update' AND changes IS NOT NULL AND patient IS NOT NULL"
        )
    ).all()
    clear = [(row.id, row.patient, json.loads(row.changes)) for row in rows]
    clear = [(event_id, patient, changes) for event_id, patient, changes in clear if changes and "sealed" not in changes]
    if not clear:
        return
    named = sorted({patient for _id, patient, _changes in clear})
    living = {
        number
        for (number,) in bind.execute(
            sa.text("SELECT nhs_number FROM patient WHERE nhs_number IN :numbers").bindparams(
                sa.bindparam("numbers", expanding=True)
            ),
            {"numbers": named},
        )
    }
    keys = {patient: AESGCM.generate_key(bit_length=256) for patient in named if patient in living}
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    for event_id, patient, changes in clear:
        key = keys.get(patient)
        stored = seal(key, patient, changes) if key else {"fields": sorted(changes), "sealed": ""}
        bind.execute(
            sa.text("UPDATE audit_event SET changes = :changes WHERE id = :id"),
            {"changes": json.dumps(stored, separators=(",", ":")), "id": event_id},
        )
    if postgres:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    for patient, key in keys.items():
        bind.execute(sa.text("INSERT INTO patient_audit_key (patient, key) VALUES (:patient, :key)"), {"patient": patient, "key": key})


def downgrade() -> None:
    op.drop_table("patient_audit_key")
