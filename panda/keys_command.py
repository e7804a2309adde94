"""``panda keys create|list|revoke``: API keys for systems (SPEC §9).

``create`` prints the new key alone on the last line of standard output, once: only its hash is
stored. Running API processes pick up a created or revoked key within ``API_KEY_REFRESH_SECONDS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from domain.auth.actor import Role
from domain.auth.keys import parse_roles
from domain.config import get_settings
from domain.db import make_engine
from domain.errors import DomainError, RuleViolation
from domain.messages import message
from domain.services import api_keys
from domain.sql import SessionRunner, SqlRunner

T = TypeVar("T")


def _run(work: Callable[[SqlRunner], Awaitable[T]]) -> T:
    """Run ``work`` on a session of the configured database; a refused request ends the command with its message."""

    async def run() -> T:
        engine = make_engine(get_settings())
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                return await work(SessionRunner(session))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (DomainError, RuleViolation) as exc:
        raise click.ClickException(message(exc.code, "en", **exc.params)) from None


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"  # type: ignore[attr-defined]


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command()
@click.option("--name", required=True, help="Who uses the key; the audit trail names its requests so.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="A role the key holds (repeat for several).",
)
def create(name: str, roles: tuple[str, ...]) -> None:
    """Create a key; it is printed once, on the last line, and never again."""
    try:
        held = parse_roles(roles)
    except RuleViolation as exc:
        raise click.ClickException(message(exc.code, "en", **exc.params)) from None
    info, secret = _run(lambda sql: api_keys.create_key(sql, name, held))
    click.echo(f"created key {info.name} (id {info.id}) with roles {', '.join(sorted(held))}")
    click.echo("store it now: it is shown only this once")
    click.echo(secret)


@keys.command("list")
def list_keys() -> None:
    """List keys: name, id, roles, created, last used, revoked (never a secret)."""
    found = _run(api_keys.list_keys)
    click.echo("name\tid\troles\tcreated\tlast used\trevoked")
    for info in found:
        roles = ",".join(sorted(info.roles))
        when = (_when(info.created_at), _when(info.last_used_at), _when(info.revoked_at))
        click.echo(f"{info.name}\t{info.id}\t{roles}\t" + "\t".join(when))


@keys.command()
@click.argument("name_or_id")
def revoke(name_or_id: str) -> None:
    """Revoke the live key with this name, or the key with this id."""
    info = _run(lambda sql: api_keys.revoke_key(sql, name_or_id))
    click.echo(f"revoked key {info.name} (id {info.id})")
