"""The privacy test runs a whole deployment, as the fault tests do: the same fixtures."""

from __future__ import annotations

from tests.resilience.conftest import private_postgres, private_redis, stack

__all__ = ["private_postgres", "private_redis", "stack"]
