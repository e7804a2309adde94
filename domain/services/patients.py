"""Patients: register, find, correct and erase (GDPR)."""

from __future__ import annotations

from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.clock import utcnow
from domain.errors import Conflict, FieldError, InvalidInput, NotFound
from domain.inputs import PatientCreate, PatientUpdate, set_fields
from domain.models import Appointment, OutboxMessage, Patient
from domain.rules import Status, normalise_nhs_number, search_key
from domain.schemas import Page, PatientView, patient_view
from domain.services.reminders import cancel_reminders

PATIENT = Patient.__table__
APPOINTMENT = Appointment.__table__


def escape_like(text: str) -> str:
    """Make user text match literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PatientService(SQLAlchemyAsyncRepositoryService[Patient]):
    """Every use case about patients; reads and writes run as SQLAlchemy Core (hot paths)."""

    class Repo(SQLAlchemyAsyncRepository[Patient]):
        model_type = Patient

    repository_type = Repo

    @property
    def _session(self) -> Any:
        return self.repository.session

    async def register(self, data: PatientCreate) -> PatientView:
        """Store a new patient; a known NHS number is a conflict."""
        now = utcnow()
        values = data.model_dump()
        values.update(name_search=search_key(data.name), created_at=now, updated_at=now)
        try:
            row = (await self._session.execute(insert(PATIENT).values(values).returning(PATIENT))).mappings().one()
        except IntegrityError:
            raise Conflict("patient.duplicate") from None
        return patient_view(row)

    async def find_row(self, nhs_number: str) -> RowMapping:
        """The stored row of the patient with this NHS number (any input format); 404 otherwise."""
        try:
            number = normalise_nhs_number(nhs_number)
        except ValueError:
            raise NotFound("patient.not_found") from None
        stmt = select(PATIENT).where(PATIENT.c.nhs_number == number)
        row = (await self._session.execute(stmt)).mappings().one_or_none()
        if row is None:
            raise NotFound("patient.not_found")
        return row

    async def read(self, nhs_number: str) -> PatientView:
        """One patient."""
        return patient_view(await self.find_row(nhs_number))

    async def search(self, name: str | None, postcode: str | None, limit: int, offset: int) -> Page[PatientView]:
        """Patients whose name contains ``name`` (Unicode case folding) and who live at ``postcode``."""
        conditions = []
        if name:
            conditions.append(PATIENT.c.name_search.like(f"%{escape_like(search_key(name))}%", escape="\\"))
        if postcode is not None:
            conditions.append(PATIENT.c.postcode == postcode)
        stmt = select(PATIENT).where(*conditions).order_by(PATIENT.c.id).limit(limit).offset(offset)
        rows = (await self._session.execute(stmt)).mappings().all()
        total = (await self._session.execute(select(func.count()).select_from(PATIENT).where(*conditions))).scalar_one()
        return Page(items=[patient_view(r) for r in rows], total=total, limit=limit, offset=offset)

    async def amend(self, nhs_number: str, data: PatientUpdate) -> PatientView:
        """Change some details; the NHS number itself never changes."""
        row = await self.find_row(nhs_number)
        changes = set_fields(data)
        if "nhs_number" in changes:
            _refuse_nhs_number_change(changes.pop("nhs_number"), row["nhs_number"])
        for required in ("name", "date_of_birth", "postcode"):
            if required in changes and changes[required] is None:
                raise InvalidInput([FieldError(required, "field.required")])
        if not changes:
            return patient_view(row)
        if "name" in changes:
            changes["name_search"] = search_key(changes["name"])
        changes["updated_at"] = utcnow()
        stmt = update(PATIENT).where(PATIENT.c.id == row["id"]).values(changes).returning(PATIENT)
        return patient_view((await self._session.execute(stmt)).mappings().one())

    async def erase(self, nhs_number: str) -> None:
        """GDPR erasure: personal data goes; unfinished appointments are cancelled, ended ones kept anonymous."""
        row = await self.find_row(nhs_number)
        now = utcnow()
        theirs = APPOINTMENT.c.patient_id == row["id"]
        unfinished = select(APPOINTMENT.c.id).where(
            theirs, APPOINTMENT.c.status == Status.ACTIVE, APPOINTMENT.c.ends_at > now
        )
        unfinished_ids = list((await self._session.execute(unfinished)).scalars())
        await cancel_reminders(self._session, unfinished_ids)
        if unfinished_ids:
            await self._session.execute(
                update(APPOINTMENT)
                .where(APPOINTMENT.c.id.in_(unfinished_ids))
                .values(status=Status.CANCELLED, updated_at=now)
            )
        all_ids = select(APPOINTMENT.c.id).where(theirs).scalar_subquery()
        await self._session.execute(delete(OutboxMessage).where(OutboxMessage.appointment_id.in_(all_ids)))
        await self._session.execute(update(APPOINTMENT).where(theirs).values(patient_id=None))
        await self._session.execute(delete(PATIENT).where(PATIENT.c.id == row["id"]))


def _refuse_nhs_number_change(sent: Any, current: str) -> None:
    try:
        same = normalise_nhs_number(sent) == current
    except ValueError:
        same = False
    if not same:
        raise InvalidInput([FieldError("nhs_number", "nhs_number.immutable")])
