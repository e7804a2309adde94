"""Clinicians and departments on both databases: one entity per case-folded name, with counts."""

from __future__ import annotations

import datetime as dt

from domain.services.directory import clinician_directory, department_directory
from domain.sql import SessionRunner
from tests.factories import appointment_body, nhs_number, now, patient_body

PATIENT = nhs_number(0)


async def test_entities_are_matched_loosely_and_counted(use_cases) -> None:
    await use_cases.register(patient_body(PATIENT))
    start = now() + dt.timedelta(days=1)
    spellings = [("Dr Eira Ŵyn", "Paediatrics"), (" DR EIRA ŵYN ", "paediatrics "), ("dr  eira ŵyn", "PAEDIATRICS")]
    for days, (clinician, department) in enumerate(spellings):
        booked = await use_cases.book(
            appointment_body(PATIENT, start + dt.timedelta(days=days), clinician=clinician, department=department)
        )
        assert (booked.clinician, booked.department) == ("Dr Eira Ŵyn", "Paediatrics")
    await use_cases.book(appointment_body(PATIENT, start - dt.timedelta(days=9), clinician="Dr Ann", status="attended"))
    async with use_cases.session() as session:
        clinicians = await clinician_directory(SessionRunner(session)).list_with_counts(50, 0)
        departments = await department_directory(SessionRunner(session)).list_with_counts(50, 0)
        second = await clinician_directory(SessionRunner(session)).list_with_counts(1, 1)
    assert [(c.name, c.appointments) for c in clinicians.items] == [("Dr Ann", 1), ("Dr Eira Ŵyn", 3)]
    assert [(d.name, d.appointments) for d in departments.items] == [("cardiology", 1), ("Paediatrics", 3)]
    assert ([c.name for c in second.items], second.total) == (["Dr Eira Ŵyn"], 2)
