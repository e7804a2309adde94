"""OpenID Connect access tokens (JWT), verified offline against the provider's published keys.

PyJWT (with ``cryptography``) does the verifying; this module decides what is acceptable (SPEC §9):
RS256, PS256 and ES256 only (``none`` and HMAC are refused before any key is looked at),
``iss`` equal to the issuer, ``aud`` containing the audience, ``exp`` required, ``nbf`` honoured,
60 s leeway. Keys are fetched when first needed and again, at most once a minute, when a token
names a ``kid`` the cached set lacks: a stream of forged ``kid`` values cannot make PANDA hammer
the provider. PyJWT's own ``PyJWKClient`` refetches on every unknown ``kid`` and fetches
synchronously, hence this small cache on ``httpx``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from domain.auth.actor import Actor, Role
from domain.errors import Unauthenticated

ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY_SECONDS = 60
REFETCH_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 5.0
_ROLE_NAMES = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class OidcProvider:
    """Where tokens come from and whom they must be for (``OIDC_*`` settings)."""

    issuer: str
    audience: str
    jwks_url: str | None = None  # None: read from the issuer's discovery document
    roles_claim: str = "roles"


class ProviderUnavailable(ConnectionError):
    """The provider's discovery document or key set could not be fetched (the request is a 503)."""


class KeySet:
    """The provider's signing keys by ``kid``, fetched lazily and refetched at most once a minute."""

    def __init__(self, provider: OidcProvider, clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.clock = clock
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> Mapping[str, Any] | None:
        """The JWK with this ``kid``, fetching the set if it was never fetched or may have changed."""
        if kid not in self._keys and self._may_fetch():
            async with self._lock:
                if kid not in self._keys and self._may_fetch():
                    await self._fetch()
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= REFETCH_SECONDS

    async def _fetch(self) -> None:
        self._fetched_at = self.clock()  # a failed fetch waits its minute too
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client:
                url = self.provider.jwks_url or await _jwks_url_from_discovery(client, self.provider.issuer)
                response = await client.get(url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(type(exc).__name__) from None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ProviderUnavailable("jwks.malformed")
        self._keys = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}


async def _jwks_url_from_discovery(client: httpx.AsyncClient, issuer: str) -> str:
    response = await client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
    response.raise_for_status()
    url = response.json().get("jwks_uri")
    if not isinstance(url, str):
        raise ValueError("jwks_uri")
    return url


class TokenVerifier:
    """Turns a bearer JWT into the actor it names, or refuses it (401 ``auth.invalid``)."""

    def __init__(self, provider: OidcProvider, keys: KeySet | None = None) -> None:
        self.provider = provider
        self.keys = keys or KeySet(provider)

    async def actor(self, token: str) -> Actor:
        """The token's ``sub`` with the PANDA roles its roles claim lists."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("auth.invalid") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS or not isinstance(kid, str):
            raise Unauthenticated("auth.invalid")
        jwk = await self.keys.key(kid)
        if jwk is None or jwk.get("alg", algorithm) != algorithm:
            raise Unauthenticated("auth.invalid")
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=algorithm)
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.provider.audience,
                issuer=self.provider.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            raise Unauthenticated("auth.invalid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("auth.invalid")
        return Actor(name=subject, roles=roles_in(claims, self.provider.roles_claim))


def roles_in(claims: Mapping[str, Any], claim: str) -> frozenset[Role]:
    """The PANDA roles listed at ``claim`` (a dotted path); other values are ignored."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, list):
        return frozenset()
    return frozenset(Role(v) for v in value if isinstance(v, str) and v in _ROLE_NAMES)
