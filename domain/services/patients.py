"""Patients: register, find, correct and erase (GDPR)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit.events import AuditTrail, changed_fields, concerns, fetch_one_audited, record, with_event
from domain.audit.sealing import forget_patient_key, seal_patient_changes
from domain.clock import utcnow
from domain.errors import Conflict, FieldChecker, NotFound
from domain.inputs import (
    PatientCreate,
    PatientUpdate,
    check_patient_contact,
    requested_changes,
    stored_patient_values,
)
from domain.models import Appointment, OutboxMessage, Patient, table
from domain.paging import fetch_page
from domain.rules import Status, check_search_text, coerce_postcode, normalise_nhs_number, search_key
from domain.rules.status import effective_status_is_sql
from domain.schemas import Page, PatientView, patient_view
from domain.services.reminders import cancel_reminders
from domain.sql import ConstraintViolation, Query, SessionRunner, SqlRunner, in_transaction

PATIENT = table(Patient)
APPOINTMENT = table(Appointment)
OUTBOX = table(OutboxMessage)
PATIENT_COLUMNS = [c for c in PATIENT.c if c.name != "id"]
# A new row's ``updated_at`` is its ``created_at``, bound once: each time bound costs the driver ~7k
# instructions. The row is answered from the values written (the database keeps them as they are
# bound), so only the NHS number comes back: decoding the whole row cost as much again.
INSERT_PATIENT = Query(
    insert(PATIENT)
    .values({c.name: bindparam("created_at" if c.name == "updated_at" else c.name) for c in PATIENT_COLUMNS})
    .returning(PATIENT.c.nhs_number)
)
PATIENT_BY_NHS_NUMBER = Query(select(PATIENT).where(PATIENT.c.nhs_number == bindparam("nhs_number")))
INSERT_PATIENT_AUDITED = with_event(INSERT_PATIENT.statement)
PATIENT_BY_NHS_NUMBER_LOCKED = Query(
    select(PATIENT).where(PATIENT.c.nhs_number == bindparam("nhs_number")).with_for_update()
)


@dataclass(frozen=True, slots=True)
class PatientFilter:
    """The filters of ``GET /patients``; each is optional."""

    name: str | None = None  # a part of the name, as given
    postcode: str | None = None  # coerced to its standard form


def parse_patient_filter(name: str | None, postcode: str | None) -> PatientFilter:
    """Validate raw filter values with the domain's rules; every bad one is named in one 400."""
    checker = FieldChecker()
    checker.check("name", name, lambda v: check_search_text(v, rule="name"))
    result = PatientFilter(name=name, postcode=checker.check("postcode", postcode, coerce_postcode))
    checker.raise_if_any()
    return result


def escape_like(text: str) -> str:
    """Make user text match literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PatientService:
    """Every use case about patients, on a SQLAlchemy session or a raw driver connection."""

    def __init__(
        self, session: AsyncSession | None = None, *, sql: SqlRunner | None = None, audit: AuditTrail | None = None
    ) -> None:
        if sql is None:
            assert session is not None, "a session or a SQL runner is needed"
            sql = SessionRunner(session)
        self.sql = sql
        self.audit = audit  # the request's audit event (None outside a request: CLI, jobs)

    async def register(self, data: PatientCreate) -> PatientView:
        """Store a new patient; a known NHS number is a conflict."""
        now = utcnow()
        values = stored_patient_values(data.model_dump())
        check_patient_contact(values)
        values.update(name_search=search_key(data.name), created_at=now)
        concerns(self.audit, resource_id=data.nhs_number, patient=data.nhs_number)
        try:
            row = await fetch_one_audited(self.sql, self.audit, INSERT_PATIENT, INSERT_PATIENT_AUDITED, **values)
        except ConstraintViolation:
            raise Conflict("patient.duplicate") from None
        assert row is not None
        return patient_view({**values, "updated_at": now})

    async def find_row(self, nhs_number: str, *, lock: bool = False) -> Mapping[str, Any]:
        """The stored row of the patient with this NHS number (any input format); 404 otherwise.

        ``lock`` holds the row until the transaction ends: a booking's foreign-key check then
        waits for an erasure, so no appointment slips in between its scan and its delete.
        """
        try:
            number = normalise_nhs_number(nhs_number)
        except ValueError:
            raise NotFound("patient.not_found") from None
        query = PATIENT_BY_NHS_NUMBER_LOCKED if lock else PATIENT_BY_NHS_NUMBER
        row = await self.sql.fetch_one(query, nhs_number=number)
        if row is None:
            raise NotFound("patient.not_found")
        return row

    async def read(self, nhs_number: str) -> PatientView:
        """One patient (the API records the read when its answer is ready)."""
        try:
            number = normalise_nhs_number(nhs_number)
        except ValueError:
            raise NotFound("patient.not_found") from None
        concerns(self.audit, resource_id=number, patient=number)
        row = await self.sql.fetch_one(PATIENT_BY_NHS_NUMBER, nhs_number=number)
        if row is None:
            raise NotFound("patient.not_found")
        return patient_view(row)

    async def search(self, filters: PatientFilter, limit: int, offset: int) -> Page[PatientView]:
        """Patients whose name contains ``filters.name`` (Unicode case folding) and who live at its postcode."""
        conditions: list[ColumnElement[bool]] = []
        if filters.name:
            conditions.append(PATIENT.c.name_search.like(f"%{escape_like(search_key(filters.name))}%", escape="\\"))
        if filters.postcode is not None:
            conditions.append(PATIENT.c.postcode == filters.postcode)
        ordered = select(PATIENT).order_by(PATIENT.c.id)
        rows, total = await fetch_page(self.sql, ordered, PATIENT, conditions, limit, offset)
        return Page(items=[patient_view(r) for r in rows], total=total, limit=limit, offset=offset)

    async def amend(self, nhs_number: str, data: PatientUpdate) -> PatientView:
        """Change some details; the NHS number itself never changes. The change and its event commit together."""

        async def amend_in_transaction() -> PatientView:
            row = await self.find_row(nhs_number, lock=True)
            number = row["nhs_number"]
            changes = requested_changes(data, {"nhs_number": number})
            before = patient_view(row)
            if not changes:
                await record(self.audit, self.sql, resource_id=number, patient=number, changes={})
                return before
            changes = stored_patient_values(changes, partial=True)
            check_patient_contact({**row, **changes})
            # A changed contact detail is usable again, whatever a delivery receipt said of the old one.
            for detail in ("email", "phone"):
                if detail in changes and changes[detail] != row[detail]:
                    changes[f"{detail}_unusable"] = False
            if "name" in changes:
                changes["name_search"] = search_key(changes["name"])
            changes["updated_at"] = utcnow()
            stmt = update(PATIENT).where(PATIENT.c.id == row["id"]).values(changes).returning(*PATIENT.c)
            updated = await self.sql.fetch_one(stmt)
            assert updated is not None
            after = patient_view(updated)
            if self.audit is not None:  # its values are sealed: erasure must be able to unmake them
                sealed = await seal_patient_changes(self.sql, number, changed_fields(before, after))
                await self.audit.record(self.sql, resource_id=number, patient=number, changes=sealed)
            return after

        return await in_transaction(self.sql, amend_in_transaction)

    async def erase(self, nhs_number: str) -> None:
        """GDPR erasure: personal data goes; unfinished appointments are cancelled, ended ones kept anonymous."""

        async def erase_in_transaction() -> None:
            row = await self.find_row(nhs_number, lock=True)
            now = utcnow()
            theirs = APPOINTMENT.c.patient_id == row["id"]
            not_ended = effective_status_is_sql(Status.ACTIVE, APPOINTMENT.c.status, APPOINTMENT.c.ends_at, now)
            unfinished = select(APPOINTMENT.c.id).where(theirs, not_ended)
            unfinished_ids = [r["id"] for r in await self.sql.fetch_all(unfinished)]
            await cancel_reminders(self.sql, unfinished_ids)
            if unfinished_ids:
                await self.sql.execute(
                    update(APPOINTMENT)
                    .where(APPOINTMENT.c.id.in_(unfinished_ids))
                    .values(status=Status.CANCELLED.value, updated_at=now)
                )
            await self.sql.execute(delete(OUTBOX).where(_outbox_naming(row, theirs)))
            await self.sql.execute(update(APPOINTMENT).where(theirs).values(patient_id=None, updated_at=now))
            await self.sql.execute(delete(PATIENT).where(PATIENT.c.id == row["id"]))
            await forget_patient_key(self.sql, row["nhs_number"])
            await record(self.audit, self.sql, resource_id=row["nhs_number"], patient=row["nhs_number"])

        await in_transaction(self.sql, erase_in_transaction)


def _outbox_naming(patient: Mapping[str, Any], theirs: ColumnElement[bool]) -> ColumnElement[bool]:
    """Every outbox message that names ``patient``, whatever became of its appointment.

    Messages record their patient (``patient_id``); those recorded before that column existed
    are found through an appointment still theirs, or, when that appointment was deleted, by
    being addressed to the patient's own e-mail address or phone number.
    """
    contacts = [value for value in (patient["email"], patient["phone"]) if value]
    conditions = [
        OUTBOX.c.patient_id == patient["id"],
        OUTBOX.c.appointment_id.in_(select(APPOINTMENT.c.id).where(theirs).scalar_subquery()),
    ]
    if contacts:
        conditions.append(and_(OUTBOX.c.patient_id.is_(None), OUTBOX.c.recipient.in_(contacts)))
    return or_(*conditions)
