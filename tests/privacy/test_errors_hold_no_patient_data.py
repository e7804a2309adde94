"""Privacy under failure: database errors about a patient's row reach no log, event or broker key.

A real API process and a real Celery worker (PostgreSQL, Redis, JSON logs at INFO) run while
the database refuses, in turn, every task's work and an API write, each time with an error
whose text quotes the patient: a CHECK constraint's ``DETAIL: Failing row contains (…)``, a
trigger's message, a view that fails as it is read. Then every log line, every Celery event
(``task-failed`` and ``task-retried`` carry the exception and its traceback: what Flower shows)
and every value left in the broker's Redis database are searched for the patient's data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis

from domain.config import Settings
from domain.migrate import migrate
from tests.privacy.probe import Person, leaks, people
from tests.privacy.scratch import drop_scratch_database, plain_dsn, scratch_database
from tests.resilience.stack import Stack
from tests.worker.conftest import _redis_db, flushed_redis_db
from worker.celery_app import make_celery

pytestmark = pytest.mark.slow

WAIT_SECONDS = 30.0
TASKS_FAILED = {"panda.reminders.drain", "panda.appointments.sweep_missed", "panda.reminders.dispatch",
                "panda.jobs.resume", "panda.jobs.resume_stalled"}  # fmt: skip
TASKS_RETRIED = {"panda.jobs.plan", "panda.jobs.chunk"}


class Events:
    """Every Celery event on the broker, collected by a receiver thread (as Flower does)."""

    def __init__(self, broker_url: str) -> None:
        self.app = make_celery(Settings(_env_file=None, broker_url=broker_url))  # type: ignore[call-arg]
        self.seen: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.app.connection_for_read() as connection:
            receiver = self.app.events.Receiver(connection, handlers={"*": self.seen.append})
            while not self.stopping.is_set():
                try:
                    receiver.capture(limit=None, timeout=0.5, wakeup=False)
                except TimeoutError:
                    continue

    def of(self, kind: str) -> list[str]:
        """Names of the tasks that had an event of ``kind``, once per event (names come with ``task-received``)."""
        named = {e["uuid"]: e["name"] for e in self.seen if e.get("type") == "task-received"}
        return [named.get(e["uuid"], "?") for e in self.seen if e.get("type") == kind]

    def names(self, kind: str) -> set[str]:
        return set(self.of(kind))

    async def wait_for(self, kind: str, task: str, count: int = 1) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while self.of(kind).count(task) < count:
            assert time.monotonic() < deadline, f"no {kind} event of {task}: {sorted(self.names(kind))}"
            await asyncio.sleep(0.1)


def probe_function(person: Person) -> str:
    """A SQL function that fails quoting the patient, as a driver's error would."""
    quoted = f"Key (email)=({person.email}) name={person.name} postcode={person.postcode}".replace("'", "''")
    return f"""
        CREATE FUNCTION privacy_probe(value anyelement) RETURNS anyelement LANGUAGE plpgsql VOLATILE AS $$
        BEGIN RAISE EXCEPTION 'refused %', '{quoted}' USING DETAIL = '{quoted}', HINT = '{quoted}'; END $$;
        CREATE FUNCTION privacy_probe_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused row %', row_to_json(NEW)::text USING DETAIL = row_to_json(NEW)::text; END $$;
    """


def refuse_inserts(table: str) -> str:
    """A trigger that refuses every row inserted into ``table``, quoting the whole row."""
    return f"CREATE TRIGGER privacy_probe BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION privacy_probe_row()"


async def poison(db: asyncpg.Connection, table: str, column: str) -> None:
    """Make every read of ``table`` that looks at ``column`` fail (a view over the renamed table)."""
    columns = [
        r["column_name"]
        for r in await db.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", table
        )
    ]
    listed = ", ".join(f"privacy_probe({c}) AS {c}" if c == column else c for c in columns)
    await db.execute(
        f"ALTER TABLE {table} RENAME TO {table}_real; CREATE VIEW {table} AS SELECT {listed} FROM {table}_real"
    )


@pytest.fixture
async def database(postgres_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this test's own: its schema gets broken on purpose."""
    scratch = await scratch_database(Settings(_env_file=None, database_url=postgres_url), tmp_path)  # type: ignore[call-arg]
    try:
        await asyncio.to_thread(migrate, scratch)
        yield scratch.database_url
    finally:
        await drop_scratch_database(scratch)


@pytest.fixture
def broker() -> Iterator[str]:
    yield from flushed_redis_db(_redis_db())


def redis_values(url: str) -> str:
    """Everything stored in the broker's database: queued messages, results, unacked tasks."""
    client = redis.Redis.from_url(url)
    parts: list[str] = []
    readers: dict[str, Any] = {
        "string": client.get,
        "list": lambda key: client.lrange(key, 0, -1),
        "hash": client.hgetall,
        "set": client.smembers,
        "zset": lambda key: client.zrange(key, 0, -1),
    }
    for key in client.scan_iter():
        reader = readers.get(client.type(key).decode())
        parts.append(repr(reader(key) if reader else b""))
    client.close()
    return "\n".join(parts)


async def test_forced_database_errors_leak_nothing(database: str, broker: str, tmp_path: Path) -> None:
    person = people()[0]
    stack = Stack(tmp_path, database, broker, {"UPLOAD_DIR": str(tmp_path / "uploads")})
    events = Events(broker)
    events.thread.start()
    db = await asyncpg.connect(plain_dsn(database))
    try:
        base_url = stack.start_api(processes=1)
        stack.start_worker("w1", concurrency=2)
        await db.execute(probe_function(person))
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await refuse_api_writes(client, db, person)
            await refuse_reminders_and_sweep(client, db, events, person)
            await refuse_job_steps(client, db, events, person)
            await refuse_reads(db, events)
    finally:
        events.stopping.set()
        events.thread.join(timeout=5)
        stack.stop()
        await db.close()

    assert events.names("task-failed") >= TASKS_FAILED and events.names("task-retried") >= TASKS_RETRIED
    logged = stack.logs()
    assert "unhandled_error" in logged and "job_step_error" in logged
    assert leaks(logged, [person]) == {}, "personal data found in the logs"
    assert leaks(json.dumps(events.seen, ensure_ascii=False), [person]) == {}, "personal data in Celery events"
    assert leaks(redis_values(broker), [person]) == {}, "personal data left in the broker"


async def refuse_api_writes(client: httpx.AsyncClient, db: asyncpg.Connection, person: Person) -> None:
    """A registration refused by a trigger quoting the row: a 500 that says nothing, logs nothing personal."""
    await db.execute(
        "CREATE TRIGGER privacy_probe BEFORE INSERT ON patient FOR EACH ROW EXECUTE FUNCTION privacy_probe_row()"
    )
    response = await client.post("/patients", json=person.body())
    assert response.status_code == 500, response.text
    assert leaks(response.text + repr(response.headers), [person]) == {}
    await db.execute("DROP TRIGGER privacy_probe ON patient")
    assert (await client.post("/patients", json=person.body())).status_code == 201


async def refuse_reminders_and_sweep(
    client: httpx.AsyncClient, db: asyncpg.Connection, events: Events, person: Person
) -> None:
    """The outbox refuses the reminder (CHECK: ``Failing row contains`` its e-mail and place); the
    sweep's ``missed`` is refused on a row holding the appointment's postcode."""
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    body = {"patient": person.nhs_number, "time": start.isoformat(), "duration": "30m",
            "clinician": "Dr Probe", "department": "Audiology", "postcode": person.postcode}  # fmt: skip
    appointment = (await client.post("/appointments", json=body)).json()
    await db.execute("UPDATE reminder SET due_at = now() - interval '1 second'")
    await db.execute("ALTER TABLE outbox_message ADD CONSTRAINT privacy_probe CHECK (recipient = '') NOT VALID")
    events.app.send_task("panda.reminders.drain", ("outbox",))
    await events.wait_for("task-failed", "panda.reminders.drain")

    await db.execute(
        "UPDATE appointment SET starts_at = now() - interval '2 hours', ends_at = now() - interval '1 hour'"
        " WHERE id = $1",
        uuid.UUID(appointment["id"]),
    )
    await db.execute("ALTER TABLE appointment ADD CONSTRAINT privacy_probe CHECK (status <> 'missed') NOT VALID")
    events.app.send_task("panda.appointments.sweep_missed")
    await events.wait_for("task-failed", "panda.appointments.sweep_missed")


async def refuse_job_steps(client: httpx.AsyncClient, db: asyncpg.Connection, events: Events, person: Person) -> None:
    """An import whose planning, then whose rows, the database refuses quoting the data: retried, by type."""
    other = people()[1]
    csv = (
        "nhs_number,name,date_of_birth,postcode,email,phone\n"
        f"{other.nhs_number},{person.name},{other.date_of_birth},{person.postcode.strip()},{person.email},{other.phone}\n"
    ).encode()
    params = {"kind": "patients", "mode": "import"}
    headers = {"content-type": "text/csv"}
    await db.execute(
        "CREATE TRIGGER privacy_probe BEFORE INSERT ON job_chunk FOR EACH ROW EXECUTE FUNCTION privacy_probe_row()"
    )
    assert (await client.post("/jobs", params=params, content=csv, headers=headers)).status_code == 202
    await events.wait_for("task-retried", "panda.jobs.plan")
    await db.execute("DROP TRIGGER privacy_probe ON job_chunk")
    await db.execute(
        "CREATE TRIGGER privacy_probe BEFORE INSERT ON patient FOR EACH ROW EXECUTE FUNCTION privacy_probe_row()"
    )
    await events.wait_for("task-retried", "panda.jobs.chunk")


async def refuse_reads(db: asyncpg.Connection, events: Events) -> None:
    """Reads that fail quoting the patient: the dispatch's count of due reminders, the resumes' job scans."""
    await poison(db, "reminder", "status")
    await poison(db, "job", "status")
    for task in ("panda.reminders.dispatch", "panda.jobs.resume", "panda.jobs.resume_stalled"):
        for tries in (1, 2):  # the first may meet a statement cached before the view: the second reads it
            events.app.send_task(task)
            await events.wait_for("task-failed", task, tries)
