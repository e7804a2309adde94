"""A realistic appointment history at scale, in PostgreSQL, in minutes (SPEC §12).

    uv run python -m bench.data --appointments 10000000 [--database panda_bench_history] [--seed 12]

Builds (or rebuilds) a migrated database: 30 departments, as many clinicians as the history needs
(each in one department, ~10 back-to-back appointments of 15 minutes to 2 hours from 09:00 London
on the weekdays they work), a patient per ten appointments (up to a million), and
``--appointments`` appointments over about five years up to a quarter or two ahead. Volume
follows the seasons (busy winters, quiet Augusts, a Christmas lull); missed rates differ by
department and rise in winter; past appointments are attended, missed or cancelled, future ones
active or cancelled. Deterministic for a seed.

Fast: rows are generated in this process while PostgreSQL ingests them (one streamed COPY per
table); secondary indexes, exclusion and foreign-key constraints are dropped first and made again
from their own definitions afterwards (checked identical), the rollup triggers are off during the
COPY and the rollup is rebuilt in one statement set. The database is kept (it is expensive) unless
``--drop``. ``bench.analytics --database NAME`` and ``bench.slots`` read it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

import asyncpg

from bench.harness import create_database, drop_database, valid_nhs_numbers

LONDON = ZoneInfo("Europe/London")
DEPARTMENTS = (
    "Cardiology", "Dermatology", "Endocrinology", "Gastroenterology", "General Surgery", "Geriatrics",
    "Gynaecology", "Haematology", "Nephrology", "Neurology", "Obstetrics", "Oncology", "Ophthalmology",
    "Orthopaedics", "Otolaryngology", "Paediatrics", "Pain Medicine", "Physiotherapy", "Plastic Surgery",
    "Psychiatry", "Radiology", "Respiratory", "Rheumatology", "Urology", "Vascular Surgery", "Audiology",
    "Diabetes", "Dietetics", "Podiatry", "Speech Therapy",
)  # fmt: skip
MAX_PATIENTS = 1_000_000
DURATIONS = (15, 15, 30, 30, 30, 30, 45, 45, 60, 60, 90, 120)  # minutes; ~43 on average
CLINIC_MINUTES = 8 * 60  # 09:00 to 17:00 London
PER_DAY = CLINIC_MINUTES // 43
YEARS_BACK = 5
DAYS_AHEAD = 92
# Chance a clinician runs clinic on a weekday, by month: winter pressure, a summer holiday dip.
WORKS = {1: 0.95, 2: 0.95, 3: 0.92, 4: 0.86, 5: 0.88, 6: 0.88, 7: 0.80, 8: 0.62, 9: 0.90, 10: 0.92, 11: 0.94, 12: 0.82}
CANCELLED = 0.06
APPOINTMENT_COLUMNS = (
    "id", "patient_id", "clinician_id", "department_id", "status", "starts_at", "ends_at",
    "duration_minutes", "postcode", "created_at", "updated_at",
)  # fmt: skip
POSTCODES = ("N6 2FA", "LS1 4AP", "M1 1AE", "B1 1BB", "CF10 1EP", "EH1 1YZ", "BS1 4DJ", "NE1 7RU", "L1 8JQ", "SW1A 2AA")


def works_on(day: dt.date, rng: random.Random) -> bool:
    """Whether a clinician holds clinic on ``day``: weekdays, by season, few between Christmas and New Year."""
    if day.weekday() >= 5:
        return False
    if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
        return rng.random() < 0.25
    return rng.random() < WORKS[day.month]


def missed_rate(department: int, day: dt.date) -> float:
    """3–9 % by department, two points more from December to February."""
    return 0.03 + 0.06 * department / len(DEPARTMENTS) + (0.02 if day.month in (12, 1, 2) else 0.0)


def patients_for(total: int) -> int:
    """A patient per ten appointments, up to a million: more than any day's appointments, as
    :func:`appointments` needs."""
    return min(MAX_PATIENTS, max(1_000, total // 10))


def clinicians_for(total: int) -> int:
    """Enough clinicians for ``total`` appointments over the span at their usual pace."""
    weekdays = (YEARS_BACK * 365 + DAYS_AHEAD) * 5 / 7
    return max(1, round(total / (weekdays * 0.86 * PER_DAY)))


def appointments(
    total: int, clinicians: int, patients: int, now: dt.datetime, seed: int
) -> Iterator[tuple[object, ...]]:
    """Rows in COPY order, day by day. A clinician's day is back to back, so none overlap; a patient
    is used at most once a day (a running index modulo the patient count), so no patient's do."""
    rng = random.Random(seed)
    minutes = [dt.timedelta(minutes=m) for m in range(CLINIC_MINUTES + max(DURATIONS) + 1)]
    today = now.astimezone(LONDON).date()
    day = dt.date(today.year - YEARS_BACK, today.month, min(today.day, 28))
    made = 0
    while made < total:
        opening = dt.datetime.combine(day, dt.time(9), tzinfo=LONDON).astimezone(dt.UTC)
        for clinician in range(clinicians):
            if not works_on(day, rng):
                continue
            department = clinician % len(DEPARTMENTS)
            missed = missed_rate(department, day)
            offset = 0
            while offset < CLINIC_MINUTES and made < total:
                length = rng.choice(DURATIONS)
                start, end = opening + minutes[offset], opening + minutes[offset + length]
                roll = rng.random()
                if roll < CANCELLED:
                    status = "cancelled"
                elif end > now:
                    status = "active"
                else:
                    status = "missed" if roll < CANCELLED + missed else "attended"
                yield (
                    uuid.UUID(int=rng.getrandbits(128), version=4), made % patients + 1, clinician + 1,
                    department + 1, status, start, end, length, POSTCODES[clinician % len(POSTCODES)], start, start,
                )  # fmt: skip
                made += 1
                offset += length
        day += dt.timedelta(days=1)


async def directory(connection: asyncpg.Connection, clinicians: int, patients: int, now: dt.datetime) -> None:
    """Departments, clinicians and patients (patients by COPY)."""
    await connection.executemany(
        "INSERT INTO department (id, name, name_key) VALUES ($1, $2, $3)",
        [(i + 1, name, name.casefold()) for i, name in enumerate(DEPARTMENTS)],
    )
    await connection.executemany(
        "INSERT INTO clinician (id, name, name_key) VALUES ($1, $2, $3)",
        [(i + 1, f"Dr Clinician {i + 1:04d}", f"dr clinician {i + 1:04d}") for i in range(clinicians)],
    )
    rng = random.Random(7)
    born = [dt.date(1930, 1, 1) + dt.timedelta(days=d) for d in range(0, 365 * 90, 37)]
    rows = (
        (
            i + 1,
            number,
            f"Patient {i + 1}",
            f"patient {i + 1}",
            rng.choice(born),
            POSTCODES[i % len(POSTCODES)],
            now,
            now,
        )
        for i, number in enumerate(valid_nhs_numbers(600_000_000, patients))
    )
    columns = ("id", "nhs_number", "name", "name_search", "date_of_birth", "postcode", "created_at", "updated_at")
    await connection.copy_records_to_table("patient", records=rows, columns=columns)
    for name in ("patient", "clinician", "department"):  # identities continue after the loaded ids
        await connection.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")


async def _definitions(
    connection: asyncpg.Connection, name: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's secondary indexes and its exclusion and foreign-key constraints, as SQL."""
    indexes = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass) ORDER BY indexname",
        name,
    )
    constraints = await connection.fetch(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype IN ('x', 'f') ORDER BY conname",
        name,
    )
    return [tuple(r) for r in indexes], [tuple(r) for r in constraints]  # type: ignore[misc]


@asynccontextmanager
async def bare(connection: asyncpg.Connection, name: str) -> AsyncIterator[None]:
    """``name`` without its secondary indexes, exclusion and foreign keys during the block, then
    with them again from their own definitions (checked identical: the schema ends as migrated)."""
    indexes, constraints = await _definitions(connection, name)
    for constraint, _ in constraints:
        await connection.execute(f'ALTER TABLE {name} DROP CONSTRAINT "{constraint}"')
    for index, _ in indexes:
        await connection.execute(f'DROP INDEX "{index}"')
    yield
    for _, definition in indexes:
        await connection.execute(definition)
    for constraint, definition in constraints:
        await connection.execute(f'ALTER TABLE {name} ADD CONSTRAINT "{constraint}" {definition}')
    if await _definitions(connection, name) != (indexes, constraints):
        raise AssertionError(f"{name}: the indexes and constraints made again differ from the migrated ones")


async def fill_derived_tables(connection: asyncpg.Connection) -> None:
    """What the system derives from appointments: the analytics rollup (its triggers were off during
    the COPY), then fresh planner statistics."""
    from domain.services.rollup import rebuild_sql

    async with connection.transaction():
        for statement in rebuild_sql("postgresql"):
            await connection.execute(statement)
    await connection.execute("VACUUM ANALYZE")


async def build(dsn: str, total: int, seed: int, now: dt.datetime) -> list[tuple[str, float]]:
    """Load ``total`` appointments into the migrated, empty database at ``dsn``; the stage timings."""
    clinicians, patients = clinicians_for(total), patients_for(total)
    stages: list[tuple[str, float]] = []
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET maintenance_work_mem = '1GB'; SET synchronous_commit = off")
        started = time.perf_counter()
        async with bare(connection, "patient"):
            await directory(connection, clinicians, patients, now)
            stages.append(
                (
                    f"directory: {len(DEPARTMENTS)} departments, {clinicians} clinicians, {patients:,} patients",
                    time.perf_counter() - started,
                )
            )
            started = time.perf_counter()
        stages.append(("patient indexes made again", time.perf_counter() - started))
        started = time.perf_counter()
        async with bare(connection, "appointment"):
            await connection.execute("ALTER TABLE appointment DISABLE TRIGGER USER")
            rows = appointments(total, clinicians, patients, now, seed)
            await connection.copy_records_to_table("appointment", records=rows, columns=APPOINTMENT_COLUMNS)
            await connection.execute("ALTER TABLE appointment ENABLE TRIGGER USER")
            stages.append((f"appointments generated and copied: {total:,}", time.perf_counter() - started))
            started = time.perf_counter()
        stages.append(("appointment indexes and constraints made again", time.perf_counter() - started))
        started = time.perf_counter()
        await fill_derived_tables(connection)
        stages.append(("rollup rebuilt, VACUUM ANALYZE", time.perf_counter() - started))
    finally:
        await connection.close()
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appointments", type=int, default=10_000_000)
    parser.add_argument("--database", default="panda_bench_history")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    args = parser.parse_args()
    began = time.perf_counter()
    dsn = create_database(args.database)
    stages = [("database created and migrated", time.perf_counter() - began)]
    try:
        stages += asyncio.run(build(dsn, args.appointments, args.seed, dt.datetime.now(dt.UTC)))
    finally:
        if args.drop:
            drop_database(args.database)
    total = time.perf_counter() - began
    print(f"bench.data: {args.appointments:,} appointments into {args.database}\n")
    print("| stage | seconds |\n|---|---:|")
    for name, seconds in stages:
        print(f"| {name} | {seconds:.1f} |")
    print(f"| **total** ({args.appointments / total:,.0f} appointments/s overall) | **{total:.1f}** |")


if __name__ == "__main__":
    main()
