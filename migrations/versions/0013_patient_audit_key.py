"""Patient audit keys (SPEC §3, §9): a patient's changed details are sealed in their audit events
with a key of their own, which erasure deletes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    op.drop_table("patient_audit_key")
