"""Instructions per request of PANDA's ASGI app and of the bare ceiling, counted by callgrind.

    uv run python -m bench.api_instructions [--requests 640] [--only "GET /patients"]

Wall-clock and CPU-time ratios on these shared machines move by ±10 % between runs (the same
Python loop has been seen to take 0.26 s and 0.50 s minutes apart). Instruction counts do not:
the same build gives the same count to within 0.5 %, whatever else the machine is doing. So a
change to a request's path can be judged here before it is judged under wrk (``bench.api``).

What is counted: one API process driving its ASGI app directly (no HTTP server, no socket), 16
requests at a time on one event loop (uvloop, as uvicorn runs it), PostgreSQL answering. Start-up,
seeding and warm-up are not counted: callgrind is switched on for the timed requests only. The
HTTP server's parsing and the database's own work are outside the count (``bench.api_cpu``
measures those). PANDA runs with auth off and auditing on, as in ``bench.api``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.api import SCENARIOS, seed
from bench.harness import ROOT, free_port, scratch_database, server, valid_nhs_numbers

BATCH = 16  # requests in flight at once
WARM_UP_BATCHES = 20
EXPECTED = {"POST": 201, "GET": 200}


def request_for(scenario: str, i: int, prefix: int, seeded: dict[str, list[str]]) -> tuple[str, str, bytes]:
    """(method, path, JSON body) of the ``i``-th request of ``scenario``, as the wrk scripts make them."""
    numbers, ids = seeded["numbers"], seeded["ids"]
    if scenario == "POST /patients":
        number = valid_nhs_numbers(700_000_000 + prefix * 10_000_000 + i * 20, 1)[0]
        body = {"nhs_number": number, "name": "Bench Patient", "date_of_birth": "1980-05-17", "postcode": "SW1A 1AA"}
        return "POST", "/patients", json.dumps(body).encode()
    if scenario == "POST /appointments":
        minutes = (prefix * 1_000_000 + i) * 15  # a fresh 15-minute slot per request, from 2040 on
        day, minute = divmod(minutes, 24 * 60)
        date = f"{2040 + day // 336}-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
        time = f"{date}T{minute // 60:02d}:{minute % 60:02d}:00+00:00"
        body = {
            "patient": numbers[(i * 7) % len(numbers)],
            "time": time,
            "duration": "15m",
            "clinician": f"Bench Clinician {i % 50}",
            "department": "bench",
            "postcode": "SW1A 1AA",
        }
        return "POST", "/appointments", json.dumps(body).encode()
    if scenario == "GET /patients/{nhs_number}":
        return "GET", f"/patients/{numbers[2 + i % (len(numbers) - 2)]}", b""
    return "GET", f"/appointments/{ids[i % len(ids)]}", b""


async def drive(app: Any, scenario: str, requests: int, prefix: int, seeded: dict[str, list[str]]) -> None:
    """Start ``app``'s lifespan, warm up, count ``requests`` requests under callgrind, stop."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started

    # Made before counting: the bodies' JSON and NHS numbers are the benchmark's work, not the app's.
    made = [request_for(scenario, i, prefix, seeded) for i in range(WARM_UP_BATCHES * BATCH + requests)]

    async def one(i: int) -> None:
        method, path, body = made[i]
        headers = [(b"host", b"localhost"), (b"user-agent", b"bench")]
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
                 "state": {}}  # fmt: skip
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != EXPECTED[method]:
            raise RuntimeError(f"{scenario}: {sent[0]['status']} {sent[-1].get('body', b'')[:200]!r}")

    async def run(first: int, count: int) -> None:
        for start in range(first, first + count, BATCH):
            await asyncio.gather(*(one(i) for i in range(start, start + BATCH)))

    warm = WARM_UP_BATCHES * BATCH
    await run(0, warm)
    callgrind("on")
    await run(warm, requests)
    callgrind("off")
    await inbox.put({"type": "lifespan.shutdown"})
    await outbox.get()
    await lifespan


def callgrind(state: str) -> None:
    """Switch callgrind's counting on or off for this process (a no-op when not under callgrind)."""
    if os.environ.get("BENCH_UNDER_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)


def child(target: str, scenario: str, requests: int, prefix: int, seed_file: str) -> None:
    """One counted run, in the process callgrind watches."""
    import uvloop

    seeded = json.loads(Path(seed_file).read_text())
    if target == "ceiling":
        from bench.ceiling import app
    else:
        from api.app import create_app
        from domain.config import get_settings

        app = create_app(get_settings())
    uvloop.run(drive(app, scenario, requests, prefix, seeded))


def counted(target: str, scenario: str, requests: int, prefix: int, env: dict[str, str], seed_file: str) -> int:
    """Instructions per request of ``target`` serving ``scenario``."""
    out = Path(tempfile.mkdtemp(prefix="panda-callgrind-"))
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}/callgrind.out",
            sys.executable, "-m", "bench.api_instructions", "--child", target, "--scenario", scenario,
            "--requests", str(requests), "--prefix", str(prefix), "--seed-file", seed_file]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, env={**os.environ, **env, "BENCH_UNDER_CALLGRIND": "1"},
                          capture_output=True, text=True, check=False)  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{target} {scenario} failed:\n{done.stderr[-3000:]}")
    return int(found.group(1)) // requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=640, help="requests counted per run (a multiple of 16)")
    parser.add_argument("--only", default=None, help="endpoints whose name holds this only")
    parser.add_argument("--child", choices=("panda", "ceiling"), help=argparse.SUPPRESS)
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--seed-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.scenario, args.requests, args.prefix, args.seed_file)
        return
    requests = max(BATCH, args.requests // BATCH * BATCH)
    with scratch_database("panda_bench_instructions") as dsn:
        port = free_port()
        env = {"DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1), "LOG_FORMAT": "json",
               "WEB_CONCURRENCY": "1", "AUTH_MODE": "off", "CEILING_DSN": dsn}  # fmt: skip
        logs = Path(tempfile.mkdtemp(prefix="panda-instructions-"))
        with server(
            [sys.executable, "-m", "panda.cli", "api"], {**env, "PORT": str(port)}, port, logs / "seed.log"
        ) as base:
            numbers, ids = seed(base)
        seed_file = logs / "seeded.json"
        seed_file.write_text(json.dumps({"numbers": numbers, "ids": ids}))
        print(f"\nInstructions per request (callgrind, {requests} requests {BATCH} at a time, in process, auth off)\n")
        print("| endpoint | PANDA | ceiling | ceiling/PANDA |")
        print("|---|---:|---:|---:|")
        for prefix, (name, *_rest) in enumerate(SCENARIOS, start=1):
            if args.only is not None and args.only not in name:
                continue
            panda = counted("panda", name, requests, prefix * 2, env, str(seed_file))
            ceiling = counted("ceiling", name, requests, prefix * 2 + 1, env, str(seed_file))
            print(f"| {name} | {panda:,} | {ceiling:,} | {ceiling / panda:.0%} |", flush=True)


if __name__ == "__main__":
    main()
