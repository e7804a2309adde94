"""Concurrent clients on loopback: bookings fighting for the same clinicians and slots, reads,
reschedules and cancellations, with every answer tallied and every acknowledged write kept.

The ledger records only what the API acknowledged (a 2xx): afterwards each of those writes must
be found in the database, whatever broke in between.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import patient_body, valid_nhs_numbers

PROBLEM_JSON = "application/problem+json"


@dataclass
class Answer:
    """One request's outcome, without its body (which may carry test patient data)."""

    kind: str
    status: int  # 0: no HTTP answer at all (connection refused, reset, timed out)
    seconds: float
    at: float  # wall-clock time the answer arrived
    content_type: str = ""
    code: str = ""
    retry_after: str | None = None
    body: Any = field(default=None, repr=False)  # a 2xx's JSON, kept in memory only


@dataclass
class Ledger:
    """Writes the API acknowledged with a 2xx."""

    patients: set[str] = field(default_factory=set)
    appointments: set[str] = field(default_factory=set)
    cancelled_at: dict[str, float] = field(default_factory=dict)  # id -> when the 200 arrived


@dataclass
class Tally:
    """Every answer of a run."""

    answers: list[Answer] = field(default_factory=list)

    def statuses(self) -> Counter[int]:
        """How many answers had each status (0: none)."""
        return Counter(a.status for a in self.answers)

    def unexpected(self, allowed: set[int]) -> list[Answer]:
        """Answers whose status is not in ``allowed``."""
        return [a for a in self.answers if a.status not in allowed]

    def report(self, elapsed: float) -> str:
        """Throughput and latency percentiles, for the test's output (never asserted)."""
        seconds = sorted(a.seconds for a in self.answers if a.status)
        if len(seconds) < 2:
            return f"{len(self.answers)} requests in {elapsed:.1f}s"
        cuts = statistics.quantiles(seconds, n=100)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(a.kind for a in self.answers).items()))
        return (
            f"{len(self.answers)} requests in {elapsed:.1f}s = {len(self.answers) / elapsed:.0f} req/s; "
            f"p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms; statuses {dict(self.statuses())}; {kinds}"
        )


def slot_grid(start: dt.datetime, count: int, step: dt.timedelta) -> list[dt.datetime]:
    """``count`` start times from ``start``, ``step`` apart."""
    return [start + i * step for i in range(count)]


@dataclass
class Workload:
    """What the clients book: patients, clinicians, and the start times they compete for."""

    patients: list[str]
    clinicians: list[str]
    near_slots: list[dt.datetime]  # short, overlapping appointments whose reminders fall due during the run
    far_slots: list[dt.datetime]  # days ahead, back to back
    near_share: float = 0.3
    weights: dict[str, float] = field(
        default_factory=lambda: {"book": 0.35, "read": 0.35, "reschedule": 0.15, "cancel": 0.15}
    )

    def booking(self, rng: random.Random) -> dict[str, Any]:
        """A booking body: a random patient, a contended clinician and slot."""
        near = rng.random() < self.near_share
        start = rng.choice(self.near_slots if near else self.far_slots)
        return {
            "patient": rng.choice(self.patients),
            "time": start.isoformat(),
            "duration": "1m" if near else "30m",
            "clinician": rng.choice(self.clinicians),
            "department": "Load testing",
            "postcode": "LS1 4AP",
        }

    def new_time(self, rng: random.Random) -> str:
        """A reschedule target: another far slot (near ones may have started by then)."""
        return rng.choice(self.far_slots).isoformat()


class Clients:
    """``concurrency`` clients sharing one connection pool, each sending requests back to back."""

    def __init__(self, base_url: str, workload: Workload, concurrency: int, seed: int = 6) -> None:
        self.base_url = base_url
        self.workload = workload
        self.concurrency = concurrency
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.ledger = Ledger()
        self.booked: list[str] = []

    async def run(self, seconds: float) -> float:
        """Send traffic for ``seconds``; return the time it took."""
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        started = time.monotonic()
        deadline = started + seconds
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=30) as client:
            await asyncio.gather(*(self._client(client, deadline) for _ in range(self.concurrency)))
        return time.monotonic() - started

    async def _client(self, client: httpx.AsyncClient, deadline: float) -> None:
        kinds, weights = zip(*self.workload.weights.items(), strict=True)
        while time.monotonic() < deadline:
            kind = self.rng.choices(kinds, weights)[0]
            if kind != "book" and not self.booked:
                kind = "book"
            await getattr(self, f"_{kind}")(client)

    async def send(self, client: httpx.AsyncClient, kind: str, method: str, url: str, **kwargs: Any) -> Answer:
        """One request, timed and tallied; a transport failure is an answer with status 0."""
        started = time.monotonic()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            answer = Answer(kind, 0, time.monotonic() - started, time.time(), code=f"{type(exc).__name__}: {exc}")
        else:
            content_type = response.headers.get("content-type", "")
            code = response.json().get("code", "") if content_type.startswith(PROBLEM_JSON) else ""
            answer = Answer(
                kind,
                response.status_code,
                time.monotonic() - started,
                time.time(),
                content_type,
                code,
                response.headers.get("retry-after"),
                response.json() if response.status_code < 300 and response.content else None,
            )
        self.tally.answers.append(answer)
        return answer

    async def _book(self, client: httpx.AsyncClient) -> None:
        answer = await self.send(client, "book", "POST", "/appointments", json=self.workload.booking(self.rng))
        if answer.status == 201:
            appointment_id = answer.body["id"]
            self.ledger.appointments.add(appointment_id)
            self.booked.append(appointment_id)

    async def _read(self, client: httpx.AsyncClient) -> None:
        choice = self.rng.randrange(4)
        if choice == 0:
            await self.send(client, "read", "GET", f"/appointments/{self.rng.choice(self.booked)}")
        elif choice == 1:
            params = {"clinician": self.rng.choice(self.workload.clinicians), "limit": 20}
            await self.send(client, "read", "GET", "/appointments", params=params)
        elif choice == 2:
            await self.send(client, "read", "GET", f"/patients/{self.rng.choice(self.workload.patients)}")
        else:
            await self.send(client, "read", "GET", f"/appointments/{self.rng.choice(self.booked)}/reminders")

    async def _reschedule(self, client: httpx.AsyncClient) -> None:
        body = {"time": self.workload.new_time(self.rng)}
        await self.send(client, "reschedule", "PATCH", f"/appointments/{self.rng.choice(self.booked)}", json=body)

    async def _cancel(self, client: httpx.AsyncClient) -> None:
        appointment_id = self.rng.choice(self.booked)
        body = {"status": "cancelled"}
        answer = await self.send(client, "cancel", "PATCH", f"/appointments/{appointment_id}", json=body)
        if answer.status == 200:
            self.ledger.cancelled_at[appointment_id] = answer.at


async def register_patients(base_url: str, count: int, first: int = 500_000_000) -> list[str]:
    """Register ``count`` patients with e-mail addresses (so their reminders are sent); their NHS numbers."""
    numbers = valid_nhs_numbers(first)
    bodies = [patient_body(next(numbers), email=f"patient{i}@example.org") for i in range(count)]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for chunk in range(0, count, 50):
            responses = await asyncio.gather(*(client.post("/patients", json=b) for b in bodies[chunk : chunk + 50]))
            assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    return [body["nhs_number"] for body in bodies]
