"""The words of a reminder: the appointment's time as a Londoner reads it (no database)."""

from __future__ import annotations

import datetime as dt
import uuid

from domain.channels.compose import compose, local_time_text
from domain.rules.preferences import Language, Medium


def test_summer_times_are_shown_in_british_summer_time() -> None:
    assert local_time_text(dt.datetime(2025, 6, 4, 15, 30, tzinfo=dt.UTC)) == "Wednesday 4 June 2025 at 16:30"


def test_winter_times_are_shown_in_greenwich_mean_time() -> None:
    assert local_time_text(dt.datetime(2025, 1, 15, 9, 5, tzinfo=dt.UTC)) == "Wednesday 15 January 2025 at 09:05"


def test_the_email_names_patient_time_clinician_department_and_place() -> None:
    reminder_id = uuid.uuid4()
    message = compose(
        reminder_id,
        None,
        dt.datetime(2025, 6, 4, 15, 30, tzinfo=dt.UTC),
        medium=Medium.EMAIL,
        recipient="a@b.org",
        language=Language.ENGLISH,
        name="Siân Llŷr",
        clinician="Dr Jordan Lewis",
        department="Cardiology",
        postcode="N6 2FA",
    )
    assert message.reminder_id == reminder_id
    assert message.subject == "Appointment reminder"
    assert message.body.startswith(
        "Dear Siân Llŷr, this is a reminder of your appointment on Wednesday 4 June 2025 at 16:30 "
        "with Dr Jordan Lewis (Cardiology) at N6 2FA."
    )
    assert message.personalisation == {
        "name": "Siân Llŷr",
        "time": "Wednesday 4 June 2025 at 16:30",
        "place": "N6 2FA",
        "clinician": "Dr Jordan Lewis",
        "department": "Cardiology",
    }
