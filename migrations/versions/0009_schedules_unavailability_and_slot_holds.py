"""Schedules, unavailability and slot holds (SPEC §10).

On PostgreSQL an exclusion constraint keeps two holds of one clinician from overlapping under
concurrent requests (SQLite serialises writes instead).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _audit_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("clinician_id", _ID, nullable=False),
        sa.Column("department_id", _ID, nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        *_audit_columns(),
        sa.CheckConstraint("start_minute < end_minute", name=op.f("ck_schedule_session")),
        sa.CheckConstraint("weekdays BETWEEN 1 AND 127", name=op.f("ck_schedule_weekdays")),
        sa.ForeignKeyConstraint(["clinician_id"], ["clinician.id"], name=op.f("fk_schedule_clinician_id_clinician")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_schedule_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
    )
    op.create_index("ix_schedule_clinician", "schedule", ["clinician_id"])
    op.create_index("ix_schedule_department", "schedule", ["department_id"])

    op.create_table(
        "unavailability",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("clinician_id", _ID, nullable=False),
        sa.Column("starts_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=1020), nullable=True),
        *_audit_columns(),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_unavailability_interval")),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinician.id"], name=op.f("fk_unavailability_clinician_id_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unavailability")),
    )
    op.create_index("ix_unavailability_clinician_start", "unavailability", ["clinician_id", "starts_at"])

    op.create_table(
        "slot_hold",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("clinician_id", _ID, nullable=False),
        sa.Column("starts_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        *_audit_columns(),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_slot_hold_interval")),
        sa.ForeignKeyConstraint(["clinician_id"], ["clinician.id"], name=op.f("fk_slot_hold_clinician_id_clinician")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_hold")),
    )
    op.create_index("ix_slot_hold_clinician_start", "slot_hold", ["clinician_id", "starts_at"])
    op.create_index("ix_slot_hold_expires", "slot_hold", ["expires_at"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE slot_hold ADD CONSTRAINT ex_slot_hold_clinician_id_overlap "
            "EXCLUDE USING gist (clinician_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
        )


def downgrade() -> None:
    op.drop_table("slot_hold")
    op.drop_table("unavailability")
    op.drop_table("schedule")
