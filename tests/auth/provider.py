"""A real OpenID Connect provider's key publication, on loopback: discovery and JWKS over HTTP.

Tokens are signed with real RSA and EC keys (``cryptography``) by PyJWT, as an identity provider
signs them; PANDA verifies them against the JWKS this server publishes.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "panda-api"


@dataclass
class Provider:
    """The provider's keys, its published key set, and how often that set was fetched."""

    issuer: str = ""
    rsa_key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    ec_key: Any = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    rsa_kid: str = "rsa-1"
    ec_kid: str = "ec-1"
    jwks_fetches: int = 0
    discovery_fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        """The public keys, as ``/jwks.json`` publishes them."""
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa_key.public_key()))
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec_key.public_key()))
        return {"keys": [{**rsa_jwk, "kid": self.rsa_kid, "use": "sig"}, {**ec_jwk, "kid": self.ec_kid, "use": "sig"}]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid access-token claims for ``dr.jones``, a clinician, for five minutes."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": [AUDIENCE, "another-api"],
            "sub": "dr.jones",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "roles": ["clinician", "not-a-panda-role"],
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, algorithm: str = "RS256", kid: str | None = None, **claims: Any) -> str:
        """A token signed with the provider's own key for ``algorithm``."""
        key = self.ec_key if algorithm.startswith("ES") else self.rsa_key
        kid = kid or (self.ec_kid if algorithm.startswith("ES") else self.rsa_kid)
        return jwt.encode(self.claims(**claims), key, algorithm=algorithm, headers={"kid": kid})


@contextmanager
def serve(provider: Provider) -> Iterator[Provider]:
    """Serve ``provider``'s discovery document and JWKS on a free loopback port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                provider.discovery_fetches += 1
                body: dict[str, Any] = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks.json"}
            elif self.path == "/jwks.json":
                provider.jwks_fetches += 1
                body = provider.jwks()
            else:
                self.send_error(404)
                return
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
