"""The API with AUTH_MODE=on: API keys stored through the same code as ``panda keys``, and a real
OIDC provider's JWKS on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.app import create_app
from domain.auth.actor import Role
from domain.config import Settings
from domain.services import api_keys
from domain.sql import SessionRunner
from tests.auth.provider import AUDIENCE, Provider, serve


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    """The identity provider, serving its discovery document and keys over HTTP on loopback."""
    with serve(Provider()) as running:
        yield running


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path, provider: Provider) -> Settings:
    """Auth on (as on any network host), OIDC configured through discovery."""
    url = request.getfixturevalue("postgres_url" if backend == "postgresql" else "sqlite_url")
    return Settings(
        _env_file=None,
        database_url=url,
        broker_url=f"sqla+sqlite:///{tmp_path}/broker.sqlite",
        upload_dir=tmp_path / "uploads",
        auth_mode="on",
        oidc_issuer=provider.issuer,
        oidc_audience=AUDIENCE,
    )


class Keys:
    """API keys made as ``panda keys create`` makes them; ``header(name)`` to use one."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.secrets: dict[str, str] = {}

    async def create(self, name: str, *roles: Role) -> str:
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            _info, secret = await api_keys.create_key(SessionRunner(session), name, frozenset(roles))
        self.secrets[name] = secret
        return secret

    async def revoke(self, name: str) -> None:
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            await api_keys.revoke_key(SessionRunner(session), name)

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[name]}"}


@pytest.fixture
async def keys(engine: AsyncEngine) -> Keys:
    """One key per role (named after it), one holding every role (``all``), one revoked (``revoked``)."""
    made = Keys(engine)
    for role in Role:
        await made.create(role.value, role)
    await made.create("all", *Role)
    await made.create("revoked", *Role)
    await made.revoke("revoked")
    return made


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine, keys: Keys) -> Litestar:
    """The API with auth on, over the emptied database and its keys."""
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client talking to the app in-process."""
    async with AsyncTestClient(app=app) as client:
        yield client
