"""Log rendering keeps an exception's type and place and drops its text, for structlog and stdlib alike.

Celery logs a failed task as ``raised unexpected: %(exc)s`` with the traceback attached; a driver's
error text can quote the row it refused. Neither text may reach the line.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from domain.config import Settings
from domain.logs import AccessLogWriter, access_log_writer, configure_logging

EMAIL = "render.probe@privacy-probe.example"


class RefusedRow(Exception):
    """Stands for a driver error quoting its row."""


def refused() -> RefusedRow:
    try:
        try:
            raise KeyError(f"Key (email)=({EMAIL})")
        except KeyError as inner:
            raise RefusedRow(f'duplicate key\nDETAIL:  Key (email)=({EMAIL}) already exists. "{inner}"') from inner
    except RefusedRow as exc:
        return exc


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What PANDA's logging writes, JSON as in production."""
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stderr", buffer)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    root.handlers = []  # pytest's own capture handlers would hide what PANDA's logging does
    configure_logging(Settings(_env_file=None, log_format="json", log_level="INFO"))  # type: ignore[call-arg]
    yield buffer
    root.handlers, root.level = saved
    structlog.reset_defaults()


def test_stdlib_records_lose_exception_texts(stderr: io.StringIO) -> None:
    exc = refused()
    celery = logging.getLogger("celery.app.trace")
    context = {"name": "panda.jobs.chunk", "id": "t-1", "exc": repr(exc), "traceback": f"Traceback ... {EMAIL}"}
    celery.error(
        "Task %(name)s[%(id)s] raised unexpected: %(exc)s", context, exc_info=(type(exc), exc, exc.__traceback__)
    )
    logging.getLogger("asyncpg").warning("refused: %s", exc, exc_info=exc)
    logging.getLogger("kombu").warning("gave up: %r after %d tries", exc, 3)

    lines = [json.loads(line) for line in stderr.getvalue().splitlines()]
    assert EMAIL not in stderr.getvalue()
    assert lines[0]["event"] == "Task panda.jobs.chunk[t-1] raised unexpected: RefusedRow"
    assert (lines[0]["error"], lines[0]["causes"], lines[0]["logger"]) == (
        "RefusedRow",
        ["KeyError"],
        "celery.app.trace",
    )
    assert lines[0]["location"].startswith("tests.privacy.test_log_rendering:")
    assert lines[1]["event"] == "refused: RefusedRow"
    assert lines[2]["event"] == "gave up: 'RefusedRow' after 3 tries"


def test_structlog_events_lose_exception_texts(stderr: io.StringIO) -> None:
    log = structlog.get_logger("panda.test")
    exc = refused()
    log.error("step_failed", exc_info=exc)
    try:
        raise exc
    except RefusedRow:
        log.exception("step_failed_again")

    assert EMAIL not in stderr.getvalue()
    first, second = (json.loads(line) for line in stderr.getvalue().splitlines())
    assert (first["error"], first["causes"]) == ("RefusedRow", ["KeyError"])
    assert second["error"] == "RefusedRow" and "exception" not in second


def _access_line_writer(stderr: io.StringIO, log_format: str, log_level: str) -> AccessLogWriter:
    """The API's access-log writer, configured as the API configures it, writing into ``stderr``."""
    settings = Settings(_env_file=None, log_format=log_format, log_level=log_level)  # type: ignore[call-arg]
    with contextlib.redirect_stderr(stderr):  # pytest puts its own stderr back during the test
        configure_logging(settings)
        return access_log_writer(settings)


def test_the_access_line_is_the_line_structlog_would_write(stderr: io.StringIO) -> None:
    # The API writes its per-request line directly (it is the hot path); it must read as the same
    # JSON line structlog's chain writes, so that log shippers see one shape.
    fields = {"request_id": "0" * 32, "method": "GET", "route": "/patients/{nhs_number:str}", "status": 200}
    _access_line_writer(stderr, "json", "INFO")(dict(fields))
    structlog.get_logger("panda.access").info("request", **fields)
    direct, chained = (json.loads(line) for line in stderr.getvalue().splitlines())
    assert direct.keys() == chained.keys() and direct.pop("timestamp")[:16] == chained.pop("timestamp")[:16]
    assert direct == chained == {**fields, "event": "request", "level": "info"}


def test_the_access_line_honours_the_level_and_the_console_format(stderr: io.StringIO) -> None:
    fields = {"request_id": "1" * 32, "method": "GET", "route": "unmatched", "status": 404}
    _access_line_writer(stderr, "json", "WARNING")(dict(fields))
    assert stderr.getvalue() == ""
    _access_line_writer(stderr, "console", "INFO")(dict(fields))
    assert "request" in stderr.getvalue() and "1" * 32 in stderr.getvalue() and not stderr.getvalue().startswith("{")


def test_the_access_line_goes_to_stdout_when_stderr_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Started with ``2>&-``, Python's sys.stderr is None; structlog then writes to stdout, and so
    # must the access line (it runs in every request's ``finally``: an error there breaks them all).
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", None)
    monkeypatch.setattr("sys.stdout", out)
    access_log_writer(Settings(_env_file=None, log_format="json", log_level="INFO"))(  # type: ignore[call-arg]
        {"request_id": "2" * 32, "status": 200}
    )
    assert json.loads(out.getvalue())["request_id"] == "2" * 32
