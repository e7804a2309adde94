"""Bearer credentials: OIDC access tokens checked against a real JWKS on loopback, API keys, and
the attacks each must refuse (SPEC §9). No verifier is mocked: PyJWT checks real signatures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy.ext.asyncio import AsyncSession

from domain.auth.actor import Role
from domain.auth.tokens import KeySet, OidcProvider, TokenVerifier
from domain.services import api_keys
from domain.sql import SessionRunner
from tests.auth.conftest import Keys
from tests.auth.provider import AUDIENCE, Provider
from tests.http.helpers import assert_problem

READ = "/patients"  # needs booking, clinician or admin


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def assert_refused(response, code: str = "auth.invalid") -> None:
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["RS256", "PS256", "ES256"])
async def test_a_valid_token_acts_as_its_subject_with_its_panda_roles(
    client, provider: Provider, keys: Keys, algorithm
) -> None:
    response = await client.get(READ, headers=bearer(provider.token(algorithm)))
    assert response.status_code == 200, response.text
    events = await _events_of(client, keys, response)
    assert events[0]["actor"] == "dr.jones" and events[0]["roles"] == ["clinician"]


async def test_no_credential_is_401_auth_required_with_a_bearer_challenge(client) -> None:
    response = await client.get(READ)
    assert_refused(response, "auth.required")
    welsh = await client.get(READ, headers={"Accept-Language": "cy"})
    assert welsh.headers["content-language"] == "cy"
    assert welsh.json()["detail"] != response.json()["detail"]


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "panda_abc", "Bearer panda_unknown"])
async def test_malformed_or_unknown_credentials_are_401(client, header) -> None:
    assert_refused(await client.get(READ, headers={"Authorization": header}))


async def test_alg_none_is_refused(client, provider: Provider) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': provider.rsa_kid})}.{_b64(provider.claims())}."
    assert_refused(await client.get(READ, headers=bearer(unsigned)))


async def test_hs256_signed_with_the_providers_public_key_is_refused(client, provider: Provider) -> None:
    public_pem = provider.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": provider.rsa_kid})
    payload = _b64(provider.claims(roles=["admin"]))
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert_refused(await client.get(READ, headers=bearer(forged)))


async def test_expired_is_refused_beyond_the_60_second_leeway(client, provider: Provider) -> None:
    now = int(time.time())
    assert_refused(await client.get(READ, headers=bearer(provider.token(exp=now - 90, iat=now - 400, nbf=now - 400))))
    within = provider.token(exp=now - 20, iat=now - 400, nbf=now - 400)
    assert (await client.get(READ, headers=bearer(within))).status_code == 200


async def test_a_token_without_exp_is_refused(client, provider: Provider) -> None:
    claims = provider.claims()
    del claims["exp"]
    token = jwt.encode(claims, provider.rsa_key, algorithm="RS256", headers={"kid": provider.rsa_kid})
    assert_refused(await client.get(READ, headers=bearer(token)))


async def test_not_yet_valid_is_refused_beyond_the_leeway(client, provider: Provider) -> None:
    now = int(time.time())
    assert_refused(await client.get(READ, headers=bearer(provider.token(nbf=now + 120))))
    assert (await client.get(READ, headers=bearer(provider.token(nbf=now + 30)))).status_code == 200


async def test_wrong_issuer_is_refused(client, provider: Provider) -> None:
    assert_refused(await client.get(READ, headers=bearer(provider.token(iss="https://evil.example"))))


async def test_wrong_audience_is_refused(client, provider: Provider) -> None:
    assert_refused(await client.get(READ, headers=bearer(provider.token(aud="another-api"))))


async def test_tampered_payload_is_refused(client, provider: Provider) -> None:
    header, _payload, signature = provider.token().split(".")
    tampered = f"{header}.{_b64(provider.claims(roles=['admin'], sub='someone-else'))}.{signature}"
    assert_refused(await client.get(READ, headers=bearer(tampered)))


async def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(client, provider: Provider) -> None:
    impostor = Provider()
    impostor.issuer = provider.issuer
    assert_refused(await client.get(READ, headers=bearer(impostor.token(kid=provider.rsa_kid))))


async def test_an_unknown_kid_fetches_the_keys_once_then_is_refused(client, provider: Provider) -> None:
    fetched = provider.jwks_fetches
    assert_refused(await client.get(READ, headers=bearer(provider.token(kid="rotated-1"))))
    assert provider.jwks_fetches == fetched + 1  # first needed: fetched
    for attempt in range(5):
        assert_refused(await client.get(READ, headers=bearer(provider.token(kid=f"forged-{attempt}"))))
    assert provider.jwks_fetches == fetched + 1  # at most once a minute, however many kids are made up
    assert (await client.get(READ, headers=bearer(provider.token()))).status_code == 200  # from the cache
    assert provider.jwks_fetches == fetched + 1


async def test_a_rotated_key_is_fetched_again_once_a_minute_has_passed(provider: Provider) -> None:
    now = [1000.0]
    key_set = KeySet(OidcProvider(issuer=provider.issuer, audience=AUDIENCE), clock=lambda: now[0])
    assert await key_set.key(provider.rsa_kid) is not None
    old_kid, provider.rsa_kid = provider.rsa_kid, "rsa-rotated"
    try:
        now[0] += 10
        assert await key_set.key("rsa-rotated") is None  # within the minute: not fetched again
        now[0] += 51
        assert await key_set.key("rsa-rotated") is not None
        assert key_set.fetches == 2
    finally:
        provider.rsa_kid = old_kid


async def test_roles_the_token_does_not_hold_are_403(client, provider: Provider) -> None:
    token = provider.token(roles=["clinician"])
    assert_problem(await client.get("/outbox", headers=bearer(token)), 403, "auth.forbidden")
    no_roles = provider.token(roles=None)
    assert_problem(await client.get(READ, headers=bearer(no_roles)), 403, "auth.forbidden")


async def test_an_api_key_works_until_revoked_and_not_5_seconds_after(client, keys: Keys) -> None:
    assert (await client.get(READ, headers=keys.header("booking"))).status_code == 200
    await keys.revoke("booking")
    await asyncio.sleep(5)
    assert_refused(await client.get(READ, headers=keys.header("booking")))
    assert_refused(await client.get(READ, headers=keys.header("revoked")))


async def test_a_key_created_while_running_works_within_5_seconds(client, keys: Keys, engine) -> None:
    assert (await client.get(READ, headers=keys.header("all"))).status_code == 200  # the ring is loaded
    await keys.create("late-comer", Role.BOOKING)
    await asyncio.sleep(5)
    assert (await client.get(READ, headers=keys.header("late-comer"))).status_code == 200
    async with AsyncSession(engine) as session:  # "last used" is written by the ring's reload
        used = {info.name: info.last_used_at for info in await api_keys.list_keys(SessionRunner(session))}
    assert used["all"] is not None and used["ops"] is None


async def test_an_explicit_jwks_url_skips_discovery(provider: Provider) -> None:
    explicit = OidcProvider(issuer=provider.issuer, audience=AUDIENCE, jwks_url=provider.issuer + "/jwks.json")
    discovered = provider.discovery_fetches
    verifier = TokenVerifier(explicit)
    actor = await verifier.actor(provider.token("ES256", roles=["ops", "auditor", "nonsense"]))
    assert actor.name == "dr.jones" and {r.value for r in actor.roles} == {"ops", "auditor"}
    assert provider.discovery_fetches == discovered


async def test_a_nested_roles_claim_is_read(provider: Provider) -> None:
    keycloak = OidcProvider(issuer=provider.issuer, audience=AUDIENCE, roles_claim="realm_access.roles")
    token = provider.token(roles=None, realm_access={"roles": ["booking", "offline_access"]})
    actor = await TokenVerifier(keycloak).actor(token)
    assert {r.value for r in actor.roles} == {"booking"}


async def _events_of(client, keys: Keys, response) -> list[dict]:
    """The audit events of ``response``'s request, read by an admin with an API key."""
    request_id = response.headers["x-request-id"]
    page = (await client.get("/audit", params={"limit": 500}, headers=keys.header("admin"))).json()
    return [e for e in page["items"] if e["request_id"] == request_id]
