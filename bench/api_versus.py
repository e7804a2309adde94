"""API benchmark against an earlier build: is this build's API no slower than the build at REV?

    uv run python -m bench.api_versus --baseline REV [--current REV2] [--rounds 2] [--duration 10]

Without ``--current`` the current build is this working tree; with it, a second worktree (to
ask, say, whether one stretch of history slowed the API).

REV is checked out in a temporary git worktree with its own ``.venv`` (``uv sync``); each build
migrates its own scratch database and serves it (one process, auth off), the bare ceiling serves
the current build's. Each build is seeded through its own API, then every scenario of bench.api
runs alternating baseline / current / ceiling, best of ``--rounds``. The worktree is removed
afterwards, also on error. Both builds get this build's wrk scripts (same requests).

A second table gives each server's CPU per request over the same runs, and the database's (every
``postgres`` process): steadier than req/s on a shared machine (see ``bench.api_cpu``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.api import SCENARIOS, alternating, keep_fastest, scenario_env, seed
from bench.api_cpu import cpu_seconds, database_cpu_seconds
from bench.api_profile import _server_pid
from bench.harness import ROOT, WrkResult, free_port, scratch_database, server, wrk

LABELS = ("baseline", "current", "ceiling")


def _git(*argv: str) -> str:
    return subprocess.run(["git", *argv], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def build_at(rev: str) -> Iterator[Path]:
    """A detached worktree of ``rev`` with its own synced ``.venv``; removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="panda-versus-"))
    tree = tmp / "build"
    _git("worktree", "add", "--detach", str(tree), rev)
    try:
        # Not this build's virtual environment: the old build syncs and uses its own .venv.
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
        frozen = subprocess.run(["uv", "sync", "--frozen"], cwd=tree, env=env, capture_output=True, check=False)
        if frozen.returncode != 0:  # an older lock file uv no longer takes as it is
            subprocess.run(["uv", "sync"], cwd=tree, env=env, check=True, capture_output=True)
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True, check=False)


def api_argv(tree: Path, python: str, port: int) -> list[str]:
    """How the build at ``tree`` serves its API: ``panda api``, or uvicorn on its app factory before that."""
    cli = tree / "panda" / "cli.py"
    if cli.exists() and "def api(" in cli.read_text():
        return [python, "-m", "panda.cli", "api"]
    return [python, "-m", "uvicorn", "--factory", "api.app:app_factory", "--port", str(port), "--no-access-log"]


def panda_env(dsn: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
    }


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.0%}" if denominator else "—"


def table(best: dict[tuple[str, str], WrkResult]) -> list[str]:
    """The markdown table: per scenario, each server's best run and the ratios between them."""
    lines = [
        "| endpoint | baseline req/s | current req/s | ceiling req/s | baseline/ceiling | current/ceiling "
        "| current/baseline | p99 ms (baseline / current / ceiling) | errors (baseline / current / ceiling) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, *_ in SCENARIOS:
        old, new, bare = (best[(name, label)] for label in LABELS)
        lines.append(
            f"| {name} | {old.requests_per_second:,.0f} | {new.requests_per_second:,.0f} | "
            f"{bare.requests_per_second:,.0f} | {_ratio(old.requests_per_second, bare.requests_per_second)} | "
            f"{_ratio(new.requests_per_second, bare.requests_per_second)} | "
            f"{_ratio(new.requests_per_second, old.requests_per_second)} | "
            f"{old.p99_ms:.1f} / {new.p99_ms:.1f} / {bare.p99_ms:.1f} | {old.errors} / {new.errors} / {bare.errors} |"
        )
    return lines


def keep_lowest(
    kept: dict[tuple[str, str], tuple[float, float]], key: tuple[str, str], sample: tuple[float, float]
) -> None:
    """Keep the (server, database) CPU sample with the lower server CPU under ``key``."""
    if key not in kept or sample[0] < kept[key][0]:
        kept[key] = sample


def cpu_table(cpu: dict[tuple[str, str], tuple[float, float]]) -> list[str]:
    """The markdown table of CPU per request: each build's server and database, and the ceiling's."""
    lines = [
        "| endpoint | server µs (baseline / current / ceiling) | database µs (baseline / current / ceiling) "
        "| ceiling/current, server | ceiling/current, server + database |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, *_ in SCENARIOS:
        (old, old_db), (new, new_db), (bare, bare_db) = (cpu[(name, label)] for label in LABELS)
        lines.append(
            f"| {name} | {old:.0f} / {new:.0f} / {bare:.0f} | {old_db:.0f} / {new_db:.0f} / {bare_db:.0f} "
            f"| {_ratio(bare, new)} | {_ratio(bare + bare_db, new + new_db)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="git revision of the earlier build, e.g. 55875cf^")
    parser.add_argument("--current", help="git revision to compare instead of this working tree")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs per server; the best is kept")
    args = parser.parse_args()
    old_rev = _git("rev-parse", "--short", args.baseline)
    new_rev = _git("rev-parse", "--short", args.current or "HEAD") + ("" if args.current else " (working tree)")
    logs = Path(tempfile.mkdtemp(prefix="panda-bench-versus-"))
    best: dict[tuple[str, str], WrkResult] = {}
    cpu: dict[tuple[str, str], tuple[float, float]] = {}
    with ExitStack() as stack:
        tree = stack.enter_context(build_at(args.baseline))
        python = str(tree / ".venv" / "bin" / "python")
        old_dsn = stack.enter_context(scratch_database("panda_bench_versus_baseline", python, tree))
        new_tree, new_python = ROOT, sys.executable
        if args.current:
            new_tree = stack.enter_context(build_at(args.current))
            new_python = str(new_tree / ".venv" / "bin" / "python")
        new_dsn = stack.enter_context(scratch_database("panda_bench_versus_current", new_python, new_tree))
        ports = free_port(), free_port(), free_port()
        ceiling_argv = [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--port", str(ports[2])]
        ceiling_argv += ["--log-level", "warning", "--no-access-log"]
        old_log, new_log = logs / "baseline.log", logs / "current.log"
        bases = {
            "baseline": stack.enter_context(
                server(api_argv(tree, python, ports[0]), panda_env(old_dsn, ports[0]), ports[0], old_log, tree)
            ),
            "current": stack.enter_context(
                server(
                    api_argv(new_tree, new_python, ports[1]), panda_env(new_dsn, ports[1]), ports[1], new_log, new_tree
                )
            ),
            "ceiling": stack.enter_context(
                server(ceiling_argv, {"CEILING_DSN": new_dsn}, ports[2], logs / "ceiling.log")
            ),
        }
        seeded = {"baseline": seed(bases["baseline"]), "current": seed(bases["current"])}
        seeded["ceiling"] = seeded["current"]  # the ceiling reads the current build's database
        pids = {label: _server_pid(int(base.rsplit(":", 1)[1])) for label, base in bases.items()}
        for prefix, name, path, script, label in alternating(args.rounds, LABELS):
            env = scenario_env(script, path, prefix, *seeded[label])
            before, database_before = cpu_seconds(pids[label]), database_cpu_seconds()
            result = wrk(bases[label] + path, script, args.connections, args.duration, env)
            requests = result.requests_per_second * args.duration
            used = (cpu_seconds(pids[label]) - before, database_cpu_seconds() - database_before)
            keep_lowest(cpu, (name, label), (used[0] / requests * 1e6, used[1] / requests * 1e6))
            keep_fastest(best, (name, label), result)
    print(
        f"\nAPI against an earlier build: baseline {args.baseline} ({old_rev}), current {new_rev};"
        f" one process each, auth off, wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"best of {args.rounds} alternating runs, PostgreSQL\n"
    )
    print("\n".join(table(best)))
    print("\nCPU per request (µs, lowest of the same runs): the server process, and every postgres process\n")
    print("\n".join(cpu_table(cpu)))
    print(f"servers' logs: {logs}", file=sys.stderr)


if __name__ == "__main__":
    main()
