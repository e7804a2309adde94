"""Loaded into a test worker (``celery worker --include tests.jobs.chunk_killer``): the chunk named
by ``PANDA_TEST_KILL_CHUNK`` kills the worker process that runs it, every time, as a chunk whose
rows exhaust memory or crash a parser would. Nothing outside the tests imports this."""

from __future__ import annotations

import os
from typing import Any

from domain.jobs import runner

_KILLED_SEQ = int(os.environ.get("PANDA_TEST_KILL_CHUNK", "-1"))
_run_chunk = runner.run_chunk


async def _run_chunk_or_die(sessions: Any, job_id: Any, seq: int, *args: Any) -> str:
    if seq == _KILLED_SEQ:
        os._exit(137)  # no cleanup, no acknowledgement: what the kernel's OOM killer leaves
    return await _run_chunk(sessions, job_id, seq, *args)


runner.run_chunk = _run_chunk_or_die  # type: ignore[assignment]
