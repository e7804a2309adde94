"""Initial schema: patients, clinicians, departments, appointments, reminders, outbox.

On PostgreSQL, exclusion constraints keep active appointments of one clinician, and of one
patient, from overlapping even under concurrent requests (SQLite serialises writes instead).

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, BigIntIdentity, DateTimeUTC
from alembic import op


sa.GUID = GUID  # type: ignore[attr-defined]
sa.DateTimeUTC = DateTimeUTC  # type: ignore[attr-defined]
sa.BigIntIdentity = BigIntIdentity  # type: ignore[attr-defined]

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinician',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False, start=1, increment=1), nullable=False),
    sa.Column('name', sa.String(length=1020), nullable=False),
    sa.Column('name_key', sa.String(length=1020), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinician')),
    sa.UniqueConstraint('name_key', name=op.f('uq_clinician_name_key'))
    )
    op.create_table('department',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False, start=1, increment=1), nullable=False),
    sa.Column('name', sa.String(length=1020), nullable=False),
    sa.Column('name_key', sa.String(length=1020), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('name_key', name=op.f('uq_department_name_key'))
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('reminder_id', sa.GUID(length=16), nullable=False),
    sa.Column('appointment_id', sa.GUID(length=16), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('reminder_id', name=op.f('uq_outbox_message_reminder_id'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_appointment', ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_created_at'), ['created_at'], unique=False)

    op.create_table('patient',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False, start=1, increment=1), nullable=False),
    sa.Column('nhs_number', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=1020), nullable=False),
    sa.Column('name_search', sa.String(length=1020), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('nhs_number', name=op.f('uq_patient_nhs_number'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_name_search'), ['name_search'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_postcode'), ['postcode'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('patient_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('clinician_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'attended', 'cancelled', 'missed')", name=op.f('ck_appointment_status')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_appointment_interval')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], name=op.f('fk_appointment_clinician_id_clinician')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_appointment_department_id_department')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_appointment_patient_id_patient'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_clinician_start', ['clinician_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_department_start', ['department_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_patient_start', ['patient_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_start', ['starts_at'], unique=False)
        batch_op.create_index('ix_appointment_status_end', ['status', 'ends_at'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.GUID(length=16), nullable=False),
    sa.Column('appointment_id', sa.GUID(length=16), nullable=True),
    sa.Column('due_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTimeUTC(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTimeUTC(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_reminder_appointment_id_appointment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_appointment', ['appointment_id'], unique=False)
        batch_op.create_index('ix_reminder_due', ['status', 'due_at'], unique=False)



    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for column in ("clinician_id", "patient_id"):
            op.execute(
                f"ALTER TABLE appointment ADD CONSTRAINT ex_appointment_{column}_overlap "
                f"EXCLUDE USING gist ({column} WITH =, tstzrange(starts_at, ends_at) WITH &&) "
                "WHERE (status = 'active')"
            )


def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_due')
        batch_op.drop_index('ix_reminder_appointment')

    op.drop_table('reminder')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_status_end')
        batch_op.drop_index('ix_appointment_start')
        batch_op.drop_index('ix_appointment_patient_start')
        batch_op.drop_index('ix_appointment_department_start')
        batch_op.drop_index('ix_appointment_clinician_start')

    op.drop_table('appointment')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_postcode'))
        batch_op.drop_index(batch_op.f('ix_patient_name_search'))

    op.drop_table('patient')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_created_at'))
        batch_op.drop_index('ix_outbox_appointment')

    op.drop_table('outbox_message')
    op.drop_table('department')
    op.drop_table('clinician')
