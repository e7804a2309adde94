"""Analytics rollup (SPEC §7, §12): settled outcomes per London day × clinician × department.

Creates ``appointment_day_total``, ``appointment_week_total`` and ``appointment_month_total``
(the same totals per London week and month), a partial index on the ``active`` rows' ends (reports read
the ended-but-active rows from it, index only), the triggers that keep it in step with ``appointment`` in
the same transaction as every write, and fills it from the appointments already stored.

On SQLite the triggers call a Python function each PANDA connection registers on connect
(``domain.dialects.register_sqlite_functions``); this migration registers it on its own
connection. A later migration that rebuilds ``appointment`` on SQLite (``batch_alter_table``)
drops its triggers with the old table and must install them again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.dialects import Dialect, register_sqlite_functions
from domain.services.rollup import apply_ddl, install_statements, rebuild_statements, uninstall_statements

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointment_day_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("clinician_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("department_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("appointments", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("missed_minutes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "clinician_id", "department_id", name=op.f("pk_appointment_day_total")),
    )
    for level in ("week", "month"):
        op.create_table(
            f"appointment_{level}_total",
            sa.Column(level, sa.Date(), nullable=False),
            sa.Column("clinician_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("department_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("appointments", sa.Integer(), nullable=False),
            sa.Column("missed", sa.Integer(), nullable=False),
            sa.Column("missed_minutes", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint(
                level, "clinician_id", "department_id", name=op.f(f"pk_appointment_{level}_total")
            ),
        )
    op.create_index(
        "ix_appointment_active_end",
        "appointment",
        ["ends_at"],
        postgresql_include=["starts_at", "clinician_id", "department_id", "duration_minutes"],
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )
    bind = op.get_bind()
    if Dialect(bind.dialect.name) is Dialect.SQLITE:
        register_sqlite_functions(bind.connection.dbapi_connection)
    apply_ddl(bind, install_statements(bind.dialect.name))
    for statement in rebuild_statements(bind.dialect.name):
        bind.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    apply_ddl(bind, uninstall_statements(bind.dialect.name))
    op.drop_index("ix_appointment_active_end", table_name="appointment")
    op.drop_table("appointment_month_total")
    op.drop_table("appointment_week_total")
    op.drop_table("appointment_day_total")
