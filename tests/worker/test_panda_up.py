"""``panda up`` from a clean directory: embedded defaults, a reminder delivered, Ctrl-C stops it all."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import nhs_number
from tests.reminders.servers import free_port

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 60.0
STOP_SECONDS = 30.0
SETTINGS_VARIABLES = ("DATABASE_URL", "BROKER_URL", "REMINDER_CHANNEL", "REMINDER_OFFSETS", "PORT", "HOST")


def wait_for(check, timeout: float, what: str, process: subprocess.Popen[bytes], log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"panda up exited ({process.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def test_panda_up_runs_everything_on_embedded_defaults_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(PORT=str(port), SCHEDULER_INTERVAL="1", REMINDER_OFFSETS="1m")
    log = tmp_path / "up.log"
    panda = Path(sys.executable).with_name("panda")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(panda), "up"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            wait_for(lambda: client.get("/health").status_code == 200, STARTUP_SECONDS, "/health", process, log)
            assert client.get("/ready").json() == {"status": "ok", "database": "ok", "broker": "ok"}
            patient = {"nhs_number": nhs_number(1), "name": "Ann", "date_of_birth": "1980-01-01",
                       "postcode": "N6 2FA", "email": "ann@example.org"}  # fmt: skip
            assert client.post("/patients", json=patient).status_code == 201
            start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1, seconds=3)
            appointment = {"patient": nhs_number(1), "time": start.isoformat(), "duration": "30m",
                           "clinician": "Dr Who", "department": "Renal", "postcode": "N6 2FA"}  # fmt: skip
            booked = client.post("/appointments", json=appointment)
            assert booked.status_code == 201, booked.text

            outbox = wait_for(
                lambda: client.get("/outbox").json()["items"], STARTUP_SECONDS, "the reminder", process, log
            )
            assert [m["appointment"] for m in outbox] == [booked.json()["id"]]
        assert {p.name for p in (tmp_path / "var").iterdir()} >= {"panda.sqlite", "broker.sqlite"}

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        assert process.wait(timeout=STOP_SECONDS) == 0, log.read_text()[-3000:]
        time.sleep(0.5)
        with pytest.raises(ProcessLookupError):
            os.killpg(process.pid, 0)  # nothing of the group is left running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
