"""Throughput and p99 against concurrency (1–128 connections), PANDA beside the bare ceiling.

    uv run --group bench python -m bench.concurrency [--duration 5] [--out bench/out]

Writes ``concurrency.json`` and ``concurrency.png`` (two panels: requests/s and p99 latency) and
prints a table. Same scratch PostgreSQL database and same servers as ``bench.api``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.api import scenario_env, seed
from bench.harness import panda_and_ceiling, wrk

LEVELS = (1, 2, 4, 8, 16, 32, 64, 128)
SCENARIOS = (
    ("GET /patients/{nhs_number}", "/patients", "get_paths.lua"),
    ("POST /patients", "/patients", "post_patients.lua"),
)


def sweep(duration: int) -> dict[str, dict[str, list[dict[str, float]]]]:
    """For each scenario and server, one wrk run per concurrency level (servers alternate per level)."""
    logs = Path(tempfile.mkdtemp(prefix="panda-bench-"))
    results: dict[str, dict[str, list[dict[str, float]]]] = {
        name: {"PANDA": [], "ceiling": []} for name, *_ in SCENARIOS
    }
    with panda_and_ceiling("panda_bench_concurrency", logs) as (panda, ceiling):
        numbers, ids = seed(panda)
        prefix = 100
        for name, path, script in SCENARIOS:
            for level in LEVELS:
                for label, base in (("PANDA", panda), ("ceiling", ceiling)):
                    prefix += 1
                    result = wrk(base + path, script, level, duration, scenario_env(script, path, prefix, numbers, ids))
                    results[name][label].append(
                        {
                            "connections": level,
                            "rps": result.requests_per_second,
                            "p99_ms": result.p99_ms,
                            "errors": result.errors,
                        }
                    )
    return results


def chart(results: dict[str, dict[str, list[dict[str, float]]]], path: Path) -> None:
    """Requests/s (top) and p99 (bottom) against connections, one column per scenario."""
    fig, axes = plt.subplots(2, len(results), figsize=(6 * len(results), 8), squeeze=False)
    for column, (name, series) in enumerate(results.items()):
        for label, style in (("PANDA", "o-"), ("ceiling", "s--")):
            xs = [point["connections"] for point in series[label]]
            axes[0][column].plot(xs, [point["rps"] for point in series[label]], style, label=label)
            axes[1][column].plot(xs, [point["p99_ms"] for point in series[label]], style, label=label)
        axes[0][column].set_title(name)
        axes[0][column].set_ylabel("requests/s")
        axes[1][column].set_ylabel("p99 latency (ms)")
        for row in (0, 1):
            axes[row][column].set_xscale("log", base=2)
            axes[row][column].set_xticks(LEVELS, [str(level) for level in LEVELS])
            axes[row][column].set_xlabel("concurrent connections")
            axes[row][column].grid(True, alpha=0.3)
            axes[row][column].legend()
    fig.suptitle("PANDA vs bare Litestar + asyncpg (one process each, PostgreSQL)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out", help="raw JSON goes here")
    parser.add_argument("--chart", type=Path, default=Path(__file__).parent / "concurrency.png")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = sweep(args.duration)
    (args.out / "concurrency.json").write_text(json.dumps(results, indent=2))
    chart(results, args.chart)
    print(f"\nConcurrency sweep (wrk, {args.duration}s per point); chart: bench/{args.chart.name}\n")
    print("| scenario | connections | PANDA req/s | ceiling req/s | ratio | PANDA p99 ms | ceiling p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, series in results.items():
        for ours, bare in zip(series["PANDA"], series["ceiling"], strict=True):
            print(
                f"| {name} | {ours['connections']} | {ours['rps']:,.0f} | {bare['rps']:,.0f} | "
                f"{ours['rps'] / bare['rps']:.0%} | {ours['p99_ms']:.1f} | {bare['p99_ms']:.1f} |"
            )


if __name__ == "__main__":
    main()
