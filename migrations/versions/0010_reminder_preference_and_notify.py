"""Reminder preference, language and Notify delivery receipts (SPEC §11).

Patients gain ``reminder_preference`` (null: the default rule), ``language`` (``en`` for everyone
so far) and the two flags a permanent delivery failure sets. Reminders record the medium and
language they went in and the provider's delivery receipt; outbox
messages record medium and language too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from advanced_alchemy.types import DateTimeUTC

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_preference", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=2), server_default="en", nullable=False))
        batch_op.add_column(sa.Column("email_unusable", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("phone_unusable", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.add_column(sa.Column("medium", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", DateTimeUTC(timezone=True), nullable=True))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("medium", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("medium")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        for column in ("delivered_at", "delivery", "language", "medium"):
            batch_op.drop_column(column)
    with op.batch_alter_table("patient", schema=None) as batch_op:
        for column in ("phone_unusable", "email_unusable", "language", "reminder_preference"):
            batch_op.drop_column(column)
