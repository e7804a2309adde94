"""A version number on each clinician's timetable (SPEC §12: a booking in one round trip).

``clinician.timetable_version`` changes, in the same transaction, whenever a row of the clinician's
``schedule``, ``unavailability`` or ``slot_hold`` is inserted, updated or deleted (or those tables
are truncated), to a number the ``timetable_version`` sequence never gave before. A booking checked
against a copy of the timetable is stored only if the version it was copied at is still the
latest (domain/services/booking_fast.py). 0 means the clinician has never had any of those rows.

On SQLite the column is added and stays 0: SQLite bookings always read the timetable itself.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = ("schedule", "unavailability", "slot_hold")

ROW_CHANGED = """
CREATE FUNCTION timetable_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE clinician SET timetable_version = nextval('timetable_version') WHERE id = OLD.clinician_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.clinician_id IS DISTINCT FROM OLD.clinician_id) THEN
        UPDATE clinician SET timetable_version = nextval('timetable_version') WHERE id = NEW.clinician_id;
    END IF;
    RETURN NULL;
END $$
"""

TABLE_TRUNCATED = """
CREATE FUNCTION timetable_table_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clinician SET timetable_version = nextval('timetable_version') WHERE timetable_version <> 0;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    with op.batch_alter_table("clinician", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timetable_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE timetable_version")
    op.execute(ROW_CHANGED)
    op.execute(TABLE_TRUNCATED)
    for name in TABLES:
        op.execute(
            f"CREATE TRIGGER {name}_timetable_changed AFTER INSERT OR UPDATE OR DELETE ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION timetable_row_changed()"
        )
        op.execute(
            f"CREATE TRIGGER {name}_timetable_truncated AFTER TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION timetable_table_truncated()"
        )
    # The clinicians with a timetable already: a version of their own.
    op.execute(
        "UPDATE clinician SET timetable_version = nextval('timetable_version') WHERE id IN ("
        + " UNION ".join(f"SELECT clinician_id FROM {name}" for name in TABLES)
        + ")"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_timetable_truncated ON {name}")
            op.execute(f"DROP TRIGGER IF EXISTS {name}_timetable_changed ON {name}")
        op.execute("DROP FUNCTION IF EXISTS timetable_table_truncated()")
        op.execute("DROP FUNCTION IF EXISTS timetable_row_changed()")
        op.execute("DROP SEQUENCE IF EXISTS timetable_version")
    with op.batch_alter_table("clinician", schema=None) as batch_op:
        batch_op.drop_column("timetable_version")
