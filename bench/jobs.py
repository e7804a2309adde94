"""Bulk-job benchmark: a generated patient CSV (5 % bad rows) validated and imported end to end.

One command prints one table: upload → ``succeeded`` wall time and rows/s for ``validate`` and
``import`` through the real API and a real prefork worker (PostgreSQL, Redis), the peak RSS of
the worker's processes and of the API, and beside them the same validation functions in a bare
loop in one process and a raw ``COPY`` of the same valid rows (the floors to compare with).

    uv run python -m bench.jobs                 # 1,000,000 rows, 2 worker processes
    uv run python -m bench.jobs --rows 200000   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.harness import ROOT, free_port, scratch_database
from bench.job_data import write_patient_csv
from domain.clock import utcnow
from domain.jobs.formats import Format
from domain.jobs.patients import COLUMNS, check_rows
from domain.jobs.readers import read_span
from domain.jobs.scan import plan_spans
from domain.rules import search_key

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


@dataclass
class Result:
    """One line of the table."""

    stage: str
    rows: int
    seconds: float
    worker_peak_mb: float | None = None
    api_peak_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def peak_rss_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def family(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found.extend(family(int(child)))
    return found


@contextmanager
def started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group (so ``kill -9`` can take its children too), stopped afterwards."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out, start_new_session=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


def rss_mb(pid: int) -> float:
    """The current resident set of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(base + "/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the API did not start")


def wait_for_worker(log: Path, starts: int = 1) -> None:
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count(" ready.") < starts:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {log}")
        time.sleep(0.2)


def run_job(base: str, source: Path, mode: str, on_progress: Any = None) -> tuple[float, float, dict[str, Any]]:
    """Upload ``source`` and wait for the job to end: (wall seconds, upload seconds, the job)."""
    started_at = time.perf_counter()
    with source.open("rb") as body:
        response = httpx.post(
            f"{base}/jobs?kind=patients&mode={mode}", content=body, headers={"Content-Type": "text/csv"}, timeout=None
        )
    response.raise_for_status()
    uploaded = time.perf_counter() - started_at
    location = response.headers["location"]
    # One client, one kept-alive connection: a new client per poll (its TLS context, its pool)
    # took a quarter of a core from the two the job runs on.
    with httpx.Client(base_url=base, timeout=30) as client:
        while True:
            job = client.get(location).json()
            if job["status"] not in ("queued", "running"):
                return time.perf_counter() - started_at, uploaded, job
            if on_progress is not None:
                on_progress(job)
            time.sleep(0.05)


def bare_loop(source: Path, chunk_rows: int) -> Result:
    """The worker's reading and validation, chunk after chunk, in this one process."""
    started_at = time.perf_counter()
    rows = valid = 0
    for span in plan_spans(source, Format.CSV, chunk_rows):
        checked, _outcome = check_rows(read_span(source, Format.CSV, span))
        rows += span.rows
        valid += len(checked)
    return Result("validation functions, bare loop (1 process)", rows, time.perf_counter() - started_at)


async def raw_copy(dsn: str, source: Path, chunk_rows: int) -> Result:
    """``COPY`` of the same valid rows into a table shaped like ``patient`` (same indexes); COPY time only."""
    connection = await asyncpg.connect(dsn)
    await connection.execute("CREATE TABLE bench_copy (LIKE patient INCLUDING ALL)")
    seconds = 0.0
    copied = 0
    now = utcnow()
    for span in plan_spans(source, Format.CSV, chunk_rows):
        checked, _outcome = check_rows(read_span(source, Format.CSV, span))
        records = [
            (*({**values, "name_search": search_key(values["name"])}[name] for name in COLUMNS), now, now)
            for values in checked
        ]
        started_at = time.perf_counter()
        await connection.copy_records_to_table(
            "bench_copy", records=records, columns=[*COLUMNS, "created_at", "updated_at"]
        )
        seconds += time.perf_counter() - started_at
        copied += len(records)
    await connection.close()
    return Result("raw COPY of the valid rows (1 connection)", copied, seconds)


COUNTS = ("total", "processed", "valid", "invalid", "duplicates", "imported")


def end_to_end(args: argparse.Namespace, source: Path, logs: Path, dsn: str) -> list[Result]:
    """Validate, then import, through the API and the worker; with ``--kill``, import again and kill -9 mid-way."""
    port = free_port()
    env = {
        "DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
        "BROKER_URL": REDIS_URL,
        "PORT": str(port),
        "UPLOAD_DIR": str(logs / "uploads"),
        "JOB_CHUNK_ROWS": str(args.chunk_rows),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)
    worker_argv = [
        sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "--pool=prefork",
        f"--concurrency={args.workers}", "--loglevel=INFO", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    worker_log = logs / "worker.log"
    results = []
    with started([sys.executable, "-m", "panda.cli", "api"], env, logs / "api.log") as api:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, api)
        api_idle = rss_mb(api.pid)
        # The worker at INFO: its " ready." line (Celery's, through PANDA's log filter) says it consumes.
        with started(worker_argv, {**env, "LOG_LEVEL": "INFO"}, worker_log) as worker:
            wait_for_worker(worker_log)
            for mode in ("validate", "import"):
                seconds, uploaded, job = run_job(base, source, mode)
                if job["status"] != "succeeded":
                    raise RuntimeError(f"{mode} job ended {job['status']}: {job.get('reason')}")
                note = ", ".join(f"{key} {job[key]:,}" for key in COUNTS[2:])
                note += f"; upload {uploaded:.2f} s; API RSS idle {api_idle:.0f} MB"
                results.append(
                    Result(
                        f"{mode} end to end ({args.workers} worker processes)",
                        int(job["total"]),
                        seconds,
                        max(peak_rss_mb(pid) for pid in family(worker.pid)),
                        max(peak_rss_mb(pid) for pid in family(api.pid)),
                        note,
                    )
                )
                undisturbed = {key: job[key] for key in COUNTS}
        if args.kill:
            results.append(kill_run(args, base, source, dsn, env, worker_argv, worker_log, undisturbed))
    return results


def kill_run(
    args: argparse.Namespace,
    base: str,
    source: Path,
    dsn: str,
    env: dict[str, str],
    worker_argv: list[str],
    worker_log: Path,
    undisturbed: dict[str, Any],
) -> Result:
    """Import into an empty table again, ``kill -9`` the worker at a third, start another, compare counts."""
    asyncio.run(_truncate(dsn))
    starts = worker_log.read_text(errors="replace").count(" ready.")
    state: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(started(worker_argv, {**env, "LOG_LEVEL": "INFO"}, worker_log))
        wait_for_worker(worker_log, starts + 1)

        def kill_at_a_third(job: dict[str, Any]) -> None:
            if "killed_at" not in state and job["processed"] >= int(job["total"] or 0) // 3 > 0:
                os.killpg(first.pid, signal.SIGKILL)
                first.wait()
                state["killed_at"] = job["processed"]
                stack.enter_context(started(worker_argv, {**env, "LOG_LEVEL": "INFO"}, worker_log))

        seconds, _uploaded, job = run_job(base, source, "import", kill_at_a_third)
    after = {key: job[key] for key in COUNTS}
    same = "the same counts" if after == undisturbed and job["status"] == "succeeded" else f"DIFFERENT: {after}"
    note = f"killed at {state.get('killed_at', 0):,} rows processed; ended {job['status']} with {same}"
    return Result("import, worker killed -9 at 1/3, restarted", int(job["total"]), seconds, note=note)


async def _truncate(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    await connection.execute("TRUNCATE patient RESTART IDENTITY CASCADE")
    await connection.close()


def print_table(results: list[Result], rows: int) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nBulk jobs, {rows:,} patient rows (5 % bad), CSV, PostgreSQL + Redis, {os.cpu_count()} CPUs")
    print(f"(load average at the end: {load}; other work on the machine slows every line)\n")
    columns = f"{'rows':>9} | {'wall s':>7} | {'rows/s':>8} | {'worker peak MB':>14} | {'API peak MB':>11}"
    header = f"| {'stage':<46} | {columns} |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for r in results:
        worker = f"{r.worker_peak_mb:.0f}" if r.worker_peak_mb is not None else "-"
        api = f"{r.api_peak_mb:.0f}" if r.api_peak_mb is not None else "-"
        print(f"| {r.stage:<46} | {r.rows:>9,} | {r.seconds:>7.2f} | {r.rate:>8,.0f} | {worker:>14} | {api:>11} |")
    for r in results:
        if r.note:
            print(f"  {r.stage}: {r.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (prefork concurrency)")
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (file and logs)")
    parser.add_argument("--kill", action="store_true", help="also import once more, killing the worker mid-way")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="panda-bench-jobs-"))
    try:
        source = scratch / "patients.csv"
        write_patient_csv(source, args.rows)
        results = [bare_loop(source, args.chunk_rows)]
        with scratch_database("panda_bench_jobs") as dsn:
            results[:0] = end_to_end(args, source, scratch, dsn)
            results.append(asyncio.run(raw_copy(dsn, source, args.chunk_rows)))
        print_table(results, args.rows)
    finally:
        if args.keep:
            print(f"\nfile and logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
