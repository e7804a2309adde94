"""Celery tasks: each is idempotent and calls one domain use case."""

from __future__ import annotations
