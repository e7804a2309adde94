"""PatientService on both databases: storage, search and GDPR erasure below the API."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from domain.errors import Conflict, InvalidInput, NotFound
from domain.inputs import PatientUpdate, parse_input
from domain.models import Appointment, Patient, Reminder
from domain.services.patients import PatientFilter, parse_patient_filter
from tests.factories import appointment_body, dashed, nhs_number, now, patient_body, spaced

PATIENT = nhs_number(0)


async def test_register_stores_normalised_values_with_utc_stamps(use_cases) -> None:
    view = await use_cases.register(patient_body(spaced(PATIENT), name=" e\u0301mile ", postcode="sw1a1aa"))
    assert (view.nhs_number, view.name, view.postcode) == (PATIENT, "\u00e9mile", "SW1A 1AA")
    async with use_cases.session() as session:
        row = (await session.execute(select(Patient).where(Patient.nhs_number == PATIENT))).scalar_one()
    assert row.name == "\u00e9mile"
    assert row.date_of_birth == dt.date(1980, 5, 17)
    for stamp in (row.created_at, row.updated_at):
        assert stamp.utcoffset() == dt.timedelta(0)
        assert abs(stamp - now()) < dt.timedelta(minutes=5)
    assert view.created_at.endswith("+00:00")


async def test_duplicate_is_a_conflict_and_the_first_stays(use_cases) -> None:
    await use_cases.register(patient_body(PATIENT, name="First"))
    with pytest.raises(Conflict) as clash:
        await use_cases.register(patient_body(dashed(PATIENT), name="Second"))
    assert clash.value.code == "patient.duplicate"
    async with use_cases.patients() as service:
        assert (await service.read(PATIENT)).name == "First"


async def test_read_and_search(use_cases) -> None:
    for index, name in enumerate(["Ffion Ŷr", "Bryn Jones", "Łukasz Żółć"]):
        await use_cases.register(patient_body(nhs_number(index), name=name, postcode=f"N{index} 2FA"))
    async with use_cases.patients() as service:
        assert (await service.read(dashed(nhs_number(1)))).name == "Bryn Jones"
        searches = [("ŷR", None, "Ffion Ŷr"), ("ŻÓŁĆ", None, "Łukasz Żółć"), (None, "n12fa", "Bryn Jones")]
        for name, postcode, found in searches:
            page = await service.search(parse_patient_filter(name, postcode), 50, 0)
            assert [p.name for p in page.items] == [found]
        page = await service.search(PatientFilter(), 2, 1)
        assert ([p.name for p in page.items], page.total) == (["Bryn Jones", "Łukasz Żółć"], 3)
        for missing in (nhs_number(7), "123", "not a number"):
            with pytest.raises(NotFound):
                await service.read(missing)


async def test_amend(use_cases) -> None:
    await use_cases.register(patient_body(PATIENT))
    async with use_cases.patients() as service:
        view = await service.amend(PATIENT, parse_input(PatientUpdate, {"name": "Changed", "phone": "07700900123"}))
    assert (view.name, view.phone, view.postcode) == ("Changed", "+447700900123", "N6 2FA")
    with pytest.raises(InvalidInput) as refused:
        async with use_cases.patients() as service:
            await service.amend(PATIENT, parse_input(PatientUpdate, {"nhs_number": nhs_number(1)}))
    assert [e.code for e in refused.value.errors] == ["nhs_number.immutable"]
    async with use_cases.patients() as service:
        assert [p.name for p in (await service.search(PatientFilter(name="chang"), 50, 0)).items] == ["Changed"]


async def test_erase_removes_personal_data_and_keeps_ended_history(use_cases) -> None:
    await use_cases.register(patient_body(PATIENT, email="a@example.org"))
    await use_cases.register(patient_body(nhs_number(1)))
    future = await use_cases.book(appointment_body(PATIENT, now() + dt.timedelta(days=3)))
    ended = await use_cases.book(appointment_body(PATIENT, now() - dt.timedelta(days=3), status="attended"))
    someone_else = await use_cases.book(appointment_body(nhs_number(1), now() + dt.timedelta(days=4)))

    async with use_cases.patients() as service:
        await service.erase(spaced(PATIENT))

    async with use_cases.session() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1
        rows = {
            str(r.id): (r.status, r.patient_id)
            for r in (await session.execute(select(Appointment.id, Appointment.status, Appointment.patient_id))).all()
        }
        pending = await session.scalar(
            select(func.count())
            .select_from(Reminder)
            .where(Reminder.appointment_id == uuid.UUID(future.id), Reminder.status == "scheduled")
        )
    assert rows[future.id] == ("cancelled", None)
    assert rows[ended.id] == ("attended", None)
    assert rows[someone_else.id][0] == "active" and rows[someone_else.id][1] is not None
    assert pending == 0, "no reminder may go out for an erased patient"
    with pytest.raises(NotFound):
        async with use_cases.patients() as service:
            await service.read(PATIENT)
