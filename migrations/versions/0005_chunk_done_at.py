"""Chunks record when they were done, so a job whose progress stalled can be resumed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_chunk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", DateTimeUTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_chunk", schema=None) as batch_op:
        batch_op.drop_column("done_at")
