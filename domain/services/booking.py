"""The stored row of a planned booking: built once for the API, the bulk import and the examples."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from domain.rules.booking import BookingPlan


def appointment_row(
    appointment_id: uuid.UUID,
    *,
    patient_id: int,
    clinician_id: int,
    department_id: int,
    plan: BookingPlan,
    postcode: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The ``appointment`` columns of a booking that :func:`domain.rules.booking.plan_booking` planned."""
    return {
        "id": appointment_id,
        "patient_id": patient_id,
        "clinician_id": clinician_id,
        "department_id": department_id,
        "status": plan.status.value,
        "starts_at": plan.start,
        "ends_at": plan.end,
        "duration_minutes": plan.duration_minutes,
        "postcode": postcode,
        "created_at": now,
        "updated_at": now,
    }
