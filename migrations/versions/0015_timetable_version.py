"""A version number on each clinician's timetable (SPEC §12: a booking in one round trip).

``clinician.timetable_version`` changes, in the same transaction, whenever a row of the clinician's
timetable is written in a way that could refuse a booking the timetable allowed before: a
``schedule`` row inserted, updated or deleted (or the table truncated: fewer sessions can mean
less bookable time), an ``unavailability`` or ``slot_hold`` row inserted or updated. Deleting
one of the last two only frees time, and a copy that still has it refuses more, never less (a
refusal by a copy is checked again against the timetable itself), so the sweep's and a release's
deletes lock no clinician row. A booking checked against a copy of the timetable is stored only
if the version it was copied at is still the latest (domain/services/booking_fast.py).

A new version is random (52 bits), not from a sequence: a database restored from a backup or
failed over to a replica could hand a sequence's numbers out again, and a running API's copy
taken at such a number would pass for the latest. 0 means the clinician never had a timetable row.
The triggers fire ``ALWAYS``, also for sessions with ``session_replication_role = replica``.

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

NEW_VERSION = "floor(random() * 4503599627370496)::bigint + 1"
# (table, events) whose rows make up a timetable.
TRIGGERS = (
    ("schedule", "INSERT OR UPDATE OR DELETE"),
    ("unavailability", "INSERT OR UPDATE"),
    ("slot_hold", "INSERT OR UPDATE"),
)

ROW_CHANGED = f"""
CREATE FUNCTION timetable_row_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE clinician SET timetable_version = {NEW_VERSION} WHERE id = NEW.clinician_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE clinician SET timetable_version = {NEW_VERSION} WHERE id = OLD.clinician_id;
    ELSE
        -- One statement for both clinicians of a move, so two opposite moves lock them in one order.
        UPDATE clinician SET timetable_version = {NEW_VERSION}
        WHERE id IN (OLD.clinician_id, NEW.clinician_id);
    END IF;
    RETURN NULL;
END $$
"""

SCHEDULE_TRUNCATED = f"""
CREATE FUNCTION timetable_schedule_truncated() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE clinician SET timetable_version = {NEW_VERSION} WHERE timetable_version <> 0;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    with op.batch_alter_table("clinician", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timetable_version", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ROW_CHANGED)
    op.execute(SCHEDULE_TRUNCATED)
    for name, events in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {name}_timetable_changed AFTER {events} ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION timetable_row_changed()"
        )
        op.execute(f"ALTER TABLE {name} ENABLE ALWAYS TRIGGER {name}_timetable_changed")
    op.execute(
        "CREATE TRIGGER schedule_timetable_truncated AFTER TRUNCATE ON schedule "
        "FOR EACH STATEMENT EXECUTE FUNCTION timetable_schedule_truncated()"
    )
    op.execute("ALTER TABLE schedule ENABLE ALWAYS TRIGGER schedule_timetable_truncated")
    # The clinicians with a timetable already: a version of their own.
    tables = " UNION ".join(f"SELECT clinician_id FROM {name}" for name, _events in TRIGGERS)
    op.execute(f"UPDATE clinician SET timetable_version = {NEW_VERSION} WHERE id IN ({tables})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS schedule_timetable_truncated ON schedule")
        for name, _events in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}_timetable_changed ON {name}")
        op.execute("DROP FUNCTION IF EXISTS timetable_schedule_truncated()")
        op.execute("DROP FUNCTION IF EXISTS timetable_row_changed()")
    with op.batch_alter_table("clinician", schema=None) as batch_op:
        batch_op.drop_column("timetable_version")
