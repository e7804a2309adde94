"""Where an API request's time goes: py-spy samples of one PANDA API process under wrk, by category.

    uv run --group bench python -m bench.api_profile [--auth on|off] [--duration 8]

Starts PANDA (one process, PostgreSQL, as ``bench.api`` does), seeds it through the API, then for
each endpoint runs wrk while ``py-spy record`` samples the server, and prints the share of the
busy samples each category took (a sample goes to the first category found from its innermost
frame outwards; the server's idle time is not sampled).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx

from bench.api import SCENARIOS, scenario_env, seed
from bench.harness import create_api_key, free_port, scratch_database, server, wrk

# (category, substrings of a frame "function (file:line)"), checked in this order per frame.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("logging", ("structlog/", "/logging/", "domain/logs.py")),
    ("audit (building the event)", ("domain/audit/", "api/audit.py")),
    ("auth", ("api/authentication.py", "domain/auth/", "api/access.py")),
    ("SQLAlchemy compile", ("sqlalchemy/",)),
    ("driver (asyncpg)", ("asyncpg/",)),
    ("JSON decode + validation", ("pydantic", "domain/inputs.py", "domain/rules/", "msgspec/", "_signature/")),
    ("framework routing/DI", ("_kwargs/", "api/params.py", "api/dependencies.py")),
    ("response encoding", ("litestar/response/", "litestar/serialization", "domain/schemas.py")),
    ("domain use case", ("domain/services/", "domain/sql.py", "domain/")),
    ("middleware (request id, guards, problems)", ("api/middleware.py", "api/allow", "api/guards", "api/problems")),
    ("framework routing/DI", ("litestar/",)),
    ("server (uvicorn, asyncio)", ("uvicorn/", "asyncio/", "httptools", "panda/server.py")),
]


def categorise(stack: str) -> str:
    """The category of one collapsed stack (frames root;…;leaf)."""
    for frame in reversed(stack.split(";")):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def profile(pid: int, url: str, script: str, env: dict[str, str], duration: int, out: Path) -> Counter[str]:
    """Sample ``pid`` with py-spy while wrk loads ``url``; busy samples per category."""
    spy = subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--output", str(out),
         "--duration", str(duration + 1), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    result = wrk(url, script, 32, duration, env)
    spy.wait(timeout=60)
    counts: Counter[str] = Counter()
    for line in out.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if "process_" in stack and ";" not in stack:
            continue
        counts[categorise(stack)] += int(samples)
    counts["_rps"] = int(result.requests_per_second)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--auth", choices=("on", "off"), default="off")
    parser.add_argument("--duration", type=int, default=8)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="panda-profile-"))
    with scratch_database("panda_bench_profile") as dsn:
        key = create_api_key(dsn, "bench", "booking")
        port = free_port()
        env = {
            "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": "1",
            "PORT": str(port),
            "AUTH_MODE": args.auth,
        }
        argv = [sys.executable, "-m", "panda.cli", "api"]
        with server(argv, env, port, logs / "panda.log") as base:
            auth = f"Bearer {key}" if args.auth == "on" else ""
            headers = {"Authorization": auth} if auth else {}
            numbers, ids = seed_with(base, headers)
            pid = _server_pid(port)
            print(f"\nWhere the time goes (auth {args.auth}), % of the API process's busy samples\n")
            rows = {}
            for prefix, (name, path, script, _on, _off) in enumerate(SCENARIOS[:3], start=1):
                scenario = {**scenario_env(script, path, prefix, numbers, ids), "BENCH_AUTH": auth}
                rows[name] = profile(pid, base + path, script, scenario, args.duration, logs / f"{prefix}.txt")
            names = [*dict.fromkeys(n for n, _ in CATEGORIES), "other"]
            print("| category | " + " | ".join(rows) + " |")
            print("|---|" + "---:|" * len(rows))
            for category in names:
                cells = []
                for counts in rows.values():
                    busy = sum(v for k, v in counts.items() if k != "_rps") or 1
                    cells.append(f"{counts[category] / busy:.0%}")
                print(f"| {category} | " + " | ".join(cells) + " |")
            print("| req/s under py-spy | " + " | ".join(f"{c['_rps']:,}" for c in rows.values()) + " |")


def seed_with(base: str, headers: dict[str, str]) -> tuple[list[str], list[str]]:
    """:func:`bench.api.seed`, with the credential the server needs."""
    original = httpx.Client.__init__

    def with_headers(self: httpx.Client, *a: object, **kw: object) -> None:
        original(self, *a, **{**kw, "headers": headers})  # type: ignore[arg-type]

    httpx.Client.__init__ = with_headers  # type: ignore[method-assign]
    try:
        return seed(base)
    finally:
        httpx.Client.__init__ = original  # type: ignore[method-assign]


def _server_pid(port: int) -> int:
    """The pid listening on ``port`` (the API process, not its launcher)."""
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], check=True, capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


if __name__ == "__main__":
    main()
