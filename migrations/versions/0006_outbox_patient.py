"""Outbox messages name their patient, so erasure removes them whatever became of the appointment.

Existing messages get the patient of their appointment where it still exists; a message whose
appointment was deleted earlier keeps a null ``patient_id`` and is found by its recipient when
the patient is erased (``domain.services.patients``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PATIENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_id", PATIENT_ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_patient_id_patient"), "patient", ["patient_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(batch_op.f("ix_outbox_message_patient_id"), ["patient_id"], unique=False)
    op.execute(
        "UPDATE outbox_message SET patient_id = "
        "(SELECT appointment.patient_id FROM appointment WHERE appointment.id = outbox_message.appointment_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_patient_id"))
        batch_op.drop_constraint(batch_op.f("fk_outbox_message_patient_id_patient"), type_="foreignkey")
        batch_op.drop_column("patient_id")
