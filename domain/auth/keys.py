"""API keys: a 256-bit random secret shown once, stored only as its SHA-256.

A slow password hash would guard a guessable secret; 256 random bits cannot be guessed, so a
plain SHA-256 is enough and keeps the hot path fast (SPEC §9). The prefix lets the
authentication layer tell a key from a JWT without trying both.
"""

from __future__ import annotations

import hashlib
import secrets

from domain.auth.actor import Role
from domain.errors import RuleViolation

KEY_PREFIX = "panda_"
NAME_MAX = 100
_ROLE_NAMES = frozenset(role.value for role in Role)


def new_secret() -> str:
    """A fresh API key: the prefix and 32 random bytes, URL-safe base64."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(secret: str) -> str:
    """What is stored and looked up for ``secret``."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(credential: str) -> bool:
    """Whether a bearer credential is meant as an API key (else it is taken as a JWT)."""
    return credential.startswith(KEY_PREFIX)


def parse_roles(names: list[str] | tuple[str, ...]) -> frozenset[Role]:
    """PANDA roles from their names; an unknown name is ``role.unknown``, none at all ``role.required``."""
    if not names:
        raise RuleViolation("role.required")
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            raise RuleViolation("role.unknown", role=name, allowed=", ".join(r.value for r in Role)) from None
    return frozenset(roles)


def check_key_name(name: str) -> str:
    """A key's name is how it appears in the audit trail: 1-100 printable characters."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise RuleViolation("key.name", max=NAME_MAX)
    return name


def roles_text(roles: frozenset[Role]) -> str:
    """Roles as stored (sorted, comma-separated)."""
    return ",".join(sorted(role.value for role in roles))


def roles_from_text(text: str) -> frozenset[Role]:
    """Stored roles back; names that are no longer roles are dropped."""
    return frozenset(Role(name) for name in text.split(",") if name in _ROLE_NAMES)
