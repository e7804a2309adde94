"""API keys: create, list, revoke (``panda keys``), and the live keys the API authenticates against."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from domain.auth.actor import Actor, Role
from domain.auth.keys import check_key_name, key_hash, new_secret, roles_from_text, roles_text
from domain.clock import utcnow
from domain.errors import Conflict, NotFound
from domain.models import ApiKey, table
from domain.rules.ids import read_uuid
from domain.sql import ConstraintViolation, Query, SqlRunner

API_KEY = table(ApiKey)
LIVE_KEYS = Query(select(API_KEY.c.key_hash, API_KEY.c.name, API_KEY.c.roles).where(API_KEY.c.revoked_at.is_(None)))
INSERT_KEY = Query(insert(API_KEY).values({c.name: bindparam(c.name) for c in API_KEY.c}))


@dataclass(frozen=True)
class KeyInfo:
    """A key as ``panda keys list`` shows it: never its secret or hash."""

    id: uuid.UUID
    name: str
    roles: frozenset[Role]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


async def create_key(sql: SqlRunner, name: str, roles: frozenset[Role]) -> tuple[KeyInfo, str]:
    """Store a new key; returns it and its secret (the only time the secret exists outside the caller)."""
    name = check_key_name(name)
    secret = new_secret()
    row = {
        "id": uuid.uuid4(),
        "name": name,
        "key_hash": key_hash(secret),
        "roles": roles_text(roles),
        "created_at": utcnow(),
        "last_used_at": None,
        "revoked_at": None,
    }
    try:
        async with sql.transaction():
            await sql.execute(INSERT_KEY, **row)
    except ConstraintViolation:
        raise Conflict("key.duplicate") from None
    return _info(row), secret


async def list_keys(sql: SqlRunner) -> list[KeyInfo]:
    """Every key, live and revoked, oldest first."""
    rows = await sql.fetch_all(select(API_KEY).order_by(API_KEY.c.created_at, API_KEY.c.name))
    return [_info(row) for row in rows]


async def revoke_key(sql: SqlRunner, name_or_id: str) -> KeyInfo:
    """Revoke the live key with this name, or the key with this id; 404 if there is none."""
    try:
        condition = API_KEY.c.id == read_uuid(name_or_id)
    except ValueError:
        condition = API_KEY.c.name == name_or_id.strip()
    stmt = (
        update(API_KEY)
        .where(condition, API_KEY.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(*API_KEY.c)
    )
    async with sql.transaction():
        row = await sql.fetch_one(stmt)
    if row is None:
        raise NotFound("key.not_found")
    return _info(row)


async def live_keys(sql: SqlRunner) -> dict[str, Actor]:
    """``{hash: actor}`` of every key not revoked: what the API's in-process key ring holds."""
    rows = await sql.fetch_all(LIVE_KEYS)
    return {row["key_hash"]: Actor(name=row["name"], roles=roles_from_text(row["roles"])) for row in rows}


async def mark_used(sql: SqlRunner, hashes: Sequence[str], at: dt.datetime) -> None:
    """Record when keys were last used (batched by the key ring, never one write per request)."""
    if hashes:
        stmt = update(API_KEY).where(API_KEY.c.key_hash.in_(list(hashes))).values(last_used_at=at)
        await sql.execute(stmt)


def _info(row: Mapping[str, Any]) -> KeyInfo:
    return KeyInfo(
        id=row["id"],
        name=row["name"],
        roles=roles_from_text(row["roles"]),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
