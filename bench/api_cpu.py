"""Server CPU time per request: PANDA (auth off, auth on) beside the bare ceiling, same run.

    uv run python -m bench.api_cpu [--duration 8] [--connections 32]

Throughput on a shared two-core machine moves with whatever else runs; the CPU time the server
process spends per request hardly does, and while one API process is the bottleneck its
throughput is the inverse of that time. So ``ceiling µs / PANDA µs`` is the share of the ceiling
PANDA would reach, measured with far less noise than a req/s ratio: use it to judge a change,
and ``bench.api`` for the throughput table itself.

The database's CPU per request (every ``postgres`` process on the machine, over the same run) is
printed beside it: on a machine where the database shares the cores, a request's throughput
is bounded by the two together, however fast the API process is.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.api import SCENARIOS, runs_beside_the_ceiling
from bench.api_profile import _server_pid
from bench.harness import wrk

TICK_SECONDS = 1 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_SECONDS  # utime, stime (fields 14 and 15)


def database_cpu_seconds() -> float:
    """User + system CPU time every ``postgres`` process now running has used so far."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return total


def cpu_per_request(
    base: str, path: str, script: str, env: dict[str, str], args: argparse.Namespace
) -> tuple[float, float]:
    """Microseconds of the server's and of the database's CPU per request over one wrk run."""
    pid = _server_pid(int(base.rsplit(":", 1)[1]))
    before, database_before = cpu_seconds(pid), database_cpu_seconds()
    result = wrk(base + path, script, args.connections, args.duration, env)
    used, database_used = cpu_seconds(pid) - before, database_cpu_seconds() - database_before
    requests = result.requests_per_second * args.duration
    return float(used / requests * 1e6), float(database_used / requests * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs per server; the lowest is kept")
    parser.add_argument("--only", default=None, help="endpoints whose name holds this only")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="panda-bench-cpu-"))
    best: dict[tuple[str, str], float] = {}
    database: dict[tuple[str, str], float] = {}
    for name, label, base, path, script, env in runs_beside_the_ceiling(
        "panda_bench_cpu", logs, args.rounds, args.only
    ):
        micros, database_micros = cpu_per_request(base, path, script, env, args)
        best[(name, label)] = min(micros, best.get((name, label), micros))
        database[(name, label)] = min(database_micros, database.get((name, label), database_micros))
    print(f"\nServer CPU per request (µs), wrk -c{args.connections} -d{args.duration}s, lowest of {args.rounds}\n")
    print("| endpoint | auth on µs | auth off µs | ceiling µs | ceiling/auth on | ceiling/auth off |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, *_ in SCENARIOS:
        if (name, "ceiling") not in best:
            continue
        with_auth, without, bare = best[(name, "auth on")], best[(name, "auth off")], best[(name, "ceiling")]
        print(
            f"| {name} | {with_auth:.0f} | {without:.0f} | {bare:.0f} | {bare / with_auth:.0%} | {bare / without:.0%} |"
        )
    print("\nDatabase CPU per request (µs, all postgres processes), lowest of the same runs\n")
    print("| endpoint | auth on | auth off | ceiling | API + database, ceiling/auth off |")
    print("|---|---:|---:|---:|---:|")
    for name, *_ in SCENARIOS:
        if (name, "ceiling") not in database:
            continue
        on, off, bare = (database[(name, label)] for label in ("auth on", "auth off", "ceiling"))
        whole = (best[(name, "ceiling")] + bare) / (best[(name, "auth off")] + off)
        print(f"| {name} | {on:.0f} | {off:.0f} | {bare:.0f} | {whole:.0%} |")


if __name__ == "__main__":
    main()
