"""Run every benchmark module in turn and collect their tables into ``bench/RESULTS.md``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = (
    ("API hot paths beside the bare ceiling", ["bench.api"]),
    ("Server CPU per request", ["bench.api_cpu"]),
    ("API against an earlier build", ["bench.api_versus", "--baseline", "c46282c"]),  # before JSON events beside statements
    ("Instructions per request (callgrind)", ["bench.api_instructions"]),
    ("Throughput and p99 against concurrency", ["bench.concurrency"]),
    ("Reminders through the outbox channel", ["bench.reminders"]),
    ("Bulk jobs", ["bench.jobs"]),
    ("A 10,000,000-appointment history", ["bench.data", "--appointments", "10000000"]),
    ("Missed-appointment analytics over that history", ["bench.analytics", "--database", "panda_bench_history"]),
    ("Free slots over that history", ["bench.slots", "--database", "panda_bench_history"]),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="module names to run (default: all)")
    args = parser.parse_args()
    sections = [
        "# PANDA benchmark results\n",
        f"Written by `bench/run` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Ratios are measured side by side "
        "in one run: absolute numbers move with the machine's load.\n",
    ]
    for title, module in BENCHMARKS:
        if args.only and module[0] not in args.only:
            continue
        if not (HERE / f"{module[0].split('.')[1]}.py").exists():
            sections.append(f"## {title}\n\n(not present in this checkout)\n")
            continue
        print(f"== {title}: python -m {module[0]}", flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", *module], capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        body = (
            done.stdout.strip()
            if done.returncode == 0
            else f"FAILED ({done.returncode}):\n\n```\n{done.stderr[-3000:]}\n```"
        )
        print(body, flush=True)
        sections.append(f"## {title}\n\n`uv run python -m {' '.join(module)}` ({elapsed:.0f} s)\n\n{body}\n")
        if module[0] == "bench.concurrency" and done.returncode == 0:
            sections.append("![throughput and p99 against concurrency](concurrency.png)\n")
    (HERE / "RESULTS.md").write_text("\n".join(sections))
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
