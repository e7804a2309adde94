"""From an ``Authorization`` header to an actor: API keys from an in-process key ring, or OIDC JWTs."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Sequence

from domain.auth.actor import Actor
from domain.auth.keys import key_hash, looks_like_key
from domain.auth.tokens import TokenVerifier
from domain.clock import utcnow
from domain.errors import Unauthenticated

LoadKeys = Callable[[], Awaitable[dict[str, Actor]]]
MarkUsed = Callable[[Sequence[str], dt.datetime], Awaitable[None]]


class KeyRing:
    """The live API keys of every process, reloaded when older than ``max_age`` seconds.

    A key created or revoked anywhere takes effect here within ``max_age`` (at most 5 s, SPEC §9)
    without a database round trip per request; "last used" is written in the same reload, in one
    statement for every key used since the last one.
    """

    def __init__(
        self, load: LoadKeys, mark_used: MarkUsed, max_age: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.load = load
        self.mark_used = mark_used
        self.max_age = max_age
        self.clock = clock
        self._keys: dict[str, Actor] = {}
        self._loaded_at: float | None = None
        self._used: set[str] = set()
        self._lock = asyncio.Lock()

    async def actor(self, secret: str) -> Actor | None:
        """The actor a live key names, or None."""
        if self._stale():
            async with self._lock:
                if self._stale():
                    await self._reload()
        digest = key_hash(secret)
        actor = self._keys.get(digest)
        if actor is not None:
            self._used.add(digest)
        return actor

    def _stale(self) -> bool:
        return self._loaded_at is None or self.clock() - self._loaded_at >= self.max_age

    async def _reload(self) -> None:
        used, self._used = self._used, set()
        if used:
            await self.mark_used(sorted(used), utcnow())
        self._keys = await self.load()
        self._loaded_at = self.clock()


class Authenticator:
    """Resolves ``Authorization: Bearer <credential>``; refuses with 401 ``auth.required``/``auth.invalid``."""

    def __init__(self, keys: KeyRing, tokens: TokenVerifier | None) -> None:
        self.keys = keys
        self.tokens = tokens

    async def actor(self, authorization: str | None) -> Actor:
        """The actor a request's ``Authorization`` header names."""
        if authorization is None or not authorization.strip():
            raise Unauthenticated("auth.required")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("auth.invalid")
        if looks_like_key(credential):
            actor = await self.keys.actor(credential)
            if actor is None:
                raise Unauthenticated("auth.invalid")
            return actor
        if self.tokens is None:  # no identity provider configured: only API keys are accepted
            raise Unauthenticated("auth.invalid")
        return await self.tokens.actor(credential)
