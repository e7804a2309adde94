"""Structured logs for every PANDA process: JSON in production, readable on a console.

Nothing logged may carry patient data: callers log codes, ids and counts, never values.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

from domain.config import Settings

_JSON = msgspec.json.Encoder(enc_hook=repr)


def _to_json(event: Any, **_options: Any) -> str:
    """A log line's JSON through msgspec: about 7× faster than ``json.dumps``, and it runs per request."""
    return _JSON.encode(event).decode()


def log_processors(settings: Settings) -> list[Any]:
    """The structlog chain: context, level, UTC timestamp, then JSON or console rendering."""
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_to_json)
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        renderer,
    ]


def configure_logging(settings: Settings) -> None:
    """Configure structlog and the standard library's root logger alike."""
    level = logging.getLevelName(settings.log_level.upper())
    structlog.configure(
        processors=log_processors(settings),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
