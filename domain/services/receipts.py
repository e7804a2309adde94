"""Delivery receipts from GOV.UK Notify: recorded on the reminder they name (SPEC §11).

A receipt names its reminder by ``reference`` (the reminder id PANDA sent as the idempotency
key). It records ``delivery`` and ``delivered_at`` (Notify's ``completed_at``, else the moment it
arrived); a receipt saying what is already recorded changes nothing, not even ``updated_at``.
A ``permanent-failure`` flags the contact detail it went to as unusable for the patient, until
the patient's detail changes (``PatientService.amend`` clears the flag).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select, update

from domain.clock import utcnow
from domain.errors import NotFound, Unauthenticated
from domain.inputs import NotifyReceipt, parse_input
from domain.models import Appointment, Patient, Reminder, table
from domain.rules.delivery import bearer_matches, detail_made_unusable, receipt_is_new
from domain.rules.ids import read_uuid
from domain.sql import Query, SqlRunner, in_transaction

REMINDER = table(Reminder)
APPOINTMENT = table(Appointment)
PATIENT = table(Patient)
# The reminder with its patient's current contact details, locked: concurrent receipts take turns.
REMINDER_FOR_RECEIPT = Query(
    select(
        REMINDER.c.id,
        REMINDER.c.medium,
        REMINDER.c.delivery,
        REMINDER.c.delivered_at,
        PATIENT.c.id.label("patient_id"),
        PATIENT.c.email,
        PATIENT.c.phone,
    )
    .select_from(
        REMINDER.outerjoin(APPOINTMENT, APPOINTMENT.c.id == REMINDER.c.appointment_id).outerjoin(
            PATIENT, PATIENT.c.id == APPOINTMENT.c.patient_id
        )
    )
    .where(REMINDER.c.id == bindparam("reminder_id"))
    .with_for_update(of=REMINDER)
)


def check_callback_token(authorization: str | None, token: str | None) -> None:
    """401 unless the request carries ``Bearer NOTIFY_CALLBACK_TOKEN`` (none configured: no one)."""
    if not bearer_matches(authorization, token):
        raise Unauthenticated("callback.unauthorised")


def reminder_reference(reference: str | None) -> uuid.UUID:
    """The reminder id a receipt names; anything that is not one names no reminder (404)."""
    try:
        return read_uuid(str(reference))
    except ValueError:
        raise NotFound("reminder.not_found") from None


async def record_receipt(sql: SqlRunner, body: bytes) -> None:
    """Record one receipt (the raw callback body); 400 for a malformed one, 404 for an unknown reference."""
    receipt = parse_input(NotifyReceipt, body)
    reminder_id = reminder_reference(receipt.reference)

    async def record() -> None:
        row = await sql.fetch_one(REMINDER_FOR_RECEIPT, reminder_id=reminder_id)
        if row is None:
            raise NotFound("reminder.not_found")
        now = utcnow()
        delivered_at = receipt.completed_at or receipt.sent_at or now
        if not receipt_is_new(row["delivery"], row["delivered_at"], receipt.status, delivered_at):
            return
        await sql.execute(
            update(REMINDER)
            .where(REMINDER.c.id == reminder_id)
            .values(delivery=receipt.status.value, delivered_at=delivered_at, updated_at=now)
        )
        await _flag_unusable(sql, row, receipt)

    await in_transaction(sql, record)


async def _flag_unusable(sql: SqlRunner, row: Mapping[str, Any], receipt: NotifyReceipt) -> None:
    if row["patient_id"] is None:  # erased, or the appointment was deleted
        return
    column = detail_made_unusable(receipt.status, row["medium"], receipt.to, row["email"], row["phone"])
    if column is not None:
        await sql.execute(
            update(PATIENT).where(PATIENT.c.id == row["patient_id"]).values({column: True, "updated_at": utcnow()})
        )
