"""Several API processes come up even when each takes longer to start than uvicorn's ping allows.

uvicorn's supervisor pings every process and kills one that has not answered within
``timeout_worker_healthcheck`` (5 s by default), then starts another. On a busy two-core machine
a process spends longer than that importing before it can answer, so every replacement was killed
in turn and the API never served (seen in CI). ``API_PROCESS_HEALTHCHECK_SECONDS`` sets the allowance.
"""

from __future__ import annotations

import os

import httpx
import pytest

from tests.http.live_server import live_api

# Longer than uvicorn's default allowance of 5 s, well inside PANDA's.
CHILD_START_DELAY_SECONDS = 7

# Python imports ``sitecustomize`` at start-up from PYTHONPATH. This one delays only the processes
# uvicorn's supervisor spawns (their command line ends ``--multiprocessing-fork``), before they can
# answer a ping: a slow start, the way a loaded machine makes one. Each start is counted in a file.
SLOW_START = """
import os, sys, time
if "--multiprocessing-fork" in sys.argv:
    with open({starts!r}, "a") as starts:
        starts.write(f"{{os.getpid()}}\\n")
    time.sleep({delay})
"""


@pytest.mark.parametrize("backend", ["sqlite"])
def test_api_processes_that_start_slowly_are_not_killed_before_they_serve(settings, tmp_path) -> None:
    starts = tmp_path / "starts"
    (tmp_path / "sitecustomize.py").write_text(SLOW_START.format(starts=str(starts), delay=CHILD_START_DELAY_SECONDS))
    with live_api(
        settings,
        processes=2,
        extra_env={"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))},
    ) as base_url:
        answers = [httpx.get(f"{base_url}/health", timeout=5).status_code for _ in range(4)]
        # Both processes have passed their delay by now; a replaced one would have left a third start.
        started = starts.read_text().split()
    assert answers == [200] * 4
    assert len(started) == 2, f"the supervisor killed a starting process and started {len(started) - 2} more"
