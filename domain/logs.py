"""Structured logs for every PANDA process: JSON in production, readable on a console.

Nothing logged may carry patient data: callers log codes, ids and counts, never values. Errors
are the way values slip in uninvited (a driver's ``DETAIL: Key (email)=(…)``, a statement's
parameters), so no log line ever holds an exception's text or a formatted traceback: an
exception is described by its type, the types it was raised from, and where it was raised
(:func:`describe_exception`). The standard library's loggers (Celery, kombu, asyncpg, uvicorn)
go through the same rendering as structlog's.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, MutableMapping
from types import TracebackType
from typing import Any

import msgspec
import structlog

from domain.config import Settings

_JSON = msgspec.json.Encoder(enc_hook=repr)
# Keys under which a formatted traceback or exception text could travel in an event.
_TEXT_KEYS = ("exception", "stack_info", "stack", "traceback")


def _to_json(event: Any, **_options: Any) -> str:
    """A log line's JSON through msgspec: about 7× faster than ``json.dumps``, and it runs per request."""
    return _JSON.encode(event).decode()


def error_causes(exc: BaseException) -> list[str]:
    """The types (never the texts) of the exceptions ``exc`` was raised from or while handling."""
    names: list[str] = []
    seen = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    while seen is not None and len(names) < 8:
        names.append(type(seen).__name__)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return names


def error_location(exc: BaseException) -> str:
    """``module:line`` where ``exc`` was raised (a module name, not a path of the machine)."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_globals.get('__name__', '?')}:{tb.tb_lineno}"


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """What may be logged about an exception: its type, its causes' types and where it was raised."""
    return {"error": type(exc).__name__, "causes": error_causes(exc), "location": error_location(exc)}


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def exceptions_without_text(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: an exception becomes its description; its text and traceback go."""
    exc = _exception_of(event_dict.pop("exc_info", None))
    for key in _TEXT_KEYS:
        event_dict.pop(key, None)
    if exc is not None:
        for key, value in describe_exception(exc).items():
            event_dict.setdefault(key, value)
    return event_dict


def _foreign_record_without_text(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A standard-library record: its message again, with any exception's text replaced by its type.

    Celery writes ``raised unexpected: %(exc)s`` and passes the traceback in ``extra``; neither is kept.
    """
    record: logging.LogRecord | None = event_dict.get("_record")
    args = event_dict.pop("positional_args", None)
    exc = _exception_of(event_dict.get("exc_info"))
    if record is not None and args:
        event_dict["event"] = _message_without(str(record.msg), args, exc)
    return event_dict


def _message_without(template: str, args: Any, exc: BaseException | None) -> str:
    """``template % args`` with exceptions among ``args``, and strings quoting ``exc``, as type names."""
    text, shown, name = (str(exc), repr(exc), type(exc).__name__) if exc is not None else ("", "", "")

    def clean(value: Any) -> Any:
        if isinstance(value, BaseException):
            return type(value).__name__
        quoting = isinstance(value, str) and bool(
            exc is not None and (value == shown or (text and text in value) or "Traceback" in value)
        )
        return name if quoting else value

    cleaned: Any = (
        {key: clean(value) for key, value in args.items()} if isinstance(args, dict) else tuple(map(clean, args or ()))
    )
    try:
        return str(template % cleaned)
    except (TypeError, ValueError, KeyError):
        return template


def _renderer(settings: Settings) -> Any:
    if settings.log_format == "json":
        return structlog.processors.JSONRenderer(serializer=_to_json)
    return structlog.dev.ConsoleRenderer(colors=False)


def log_processors(settings: Settings) -> list[Any]:
    """The structlog chain: context, level, UTC timestamp, errors without text, then rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        exceptions_without_text,
        _renderer(settings),
    ]


def stdlib_formatter(settings: Settings) -> logging.Formatter:
    """The formatter of standard-library records: the same lines as structlog's, errors without text."""
    return structlog.stdlib.ProcessorFormatter(
        pass_foreign_args=True,
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _foreign_record_without_text,
            exceptions_without_text,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(settings)],
    )


def stdlib_logging_dict(settings: Settings) -> dict[str, Any]:
    """``logging.config.dictConfig`` formatters entry for frameworks that configure logging themselves."""
    return {"standard": {"()": stdlib_formatter, "settings": settings}}


def configure_logging(settings: Settings) -> None:
    """Configure structlog, and route the standard library's root logger through the same rendering."""
    level = logging.getLevelName(settings.log_level.upper())
    structlog.configure(
        processors=log_processors(settings),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(stdlib_formatter(settings))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)


AccessLogWriter = Callable[[dict[str, Any]], None]


def access_log_writer(settings: Settings) -> AccessLogWriter:
    """The writer of the API's one access-log line per request (``event`` ``request``).

    In JSON the line is encoded and written here, with the keys structlog's chain would add
    (``level``, ``timestamp``), because it runs once per request and the chain costs about three
    times as much; its fields are the middleware's own (ids, the route template, a status), never
    an exception. On a console, or with the level above ``info``, structlog's logger is used.
    """
    logger = structlog.get_logger("panda.access")
    if settings.log_format != "json" or logging.getLevelName(settings.log_level.upper()) > logging.INFO:
        return lambda fields: logger.info("request", **fields)

    # Bound now, as structlog's logger factory binds it, and with its fallback: a process started
    # with its stderr closed has ``sys.stderr = None``.
    stream = sys.stderr or sys.stdout
    if stream is None:
        return lambda fields: None

    def write(fields: dict[str, Any]) -> None:
        fields["event"] = "request"
        fields["level"] = "info"
        fields["timestamp"] = dt.datetime.now(dt.UTC)  # msgspec writes it as structlog does: ISO 8601, "Z"
        stream.write(_JSON.encode(fields).decode() + "\n")
        stream.flush()

    return write
