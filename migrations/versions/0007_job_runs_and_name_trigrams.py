"""Job steps count the runs their workers died in; patient name search gets a trigram index.

``job.plan_lost_runs`` and ``job_chunk.lost_runs`` let a job fail after a bounded number of
worker deaths instead of being redelivered forever. On PostgreSQL, a GIN trigram index
(``pg_trgm``) on the stored casefolded ``patient.name_search`` serves ``LIKE '%…%'`` searches;
SQLite has no such index and keeps scanning (the embedded default is for small data).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGRAM_INDEX = "ix_patient_name_search_trgm"


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_lost_runs", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("job_chunk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lost_runs", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            TRIGRAM_INDEX,
            "patient",
            ["name_search"],
            postgresql_using="gin",
            postgresql_ops={"name_search": "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(TRIGRAM_INDEX, table_name="patient")
    with op.batch_alter_table("job_chunk", schema=None) as batch_op:
        batch_op.drop_column("lost_runs")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("plan_lost_runs")
