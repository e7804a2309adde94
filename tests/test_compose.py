"""``docker-compose.yml`` and the proxy's configuration: real secrets, little exposure, health.

No ``docker compose`` binary runs here, so the file is read as YAML and checked as compose would
interpolate it: a secret must be required (``${VAR:?message}``), never defaulted; only the proxy
(and Flower on loopback) is published; every long-running service is health-checked; Redis
takes a password and every Redis URL carries it; the proxy's upload limit is the API's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf.template"
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "FLOWER_USER", "FLOWER_PASSWORD")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def services(text: str) -> dict[str, Any]:
    return dict(yaml.safe_load(text)["services"])


def interpolate(text: str, environment: dict[str, str]) -> str:
    """Compose's variable substitution, raising where compose would refuse to start."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"]
        value = environment.get(name)
        if op.endswith("?") and not value:
            raise LookupError(f"{name}: {arg}")
        if op.endswith("-") and not value:
            return arg
        return value or ""

    return VARIABLE.sub(substitute, text)


def test_every_secret_is_required_and_none_has_a_default(text: str) -> None:
    uses = [(m["name"], m["op"] or "") for m in VARIABLE.finditer(text) if m["name"] in SECRETS]
    assert {name for name, _ in uses} == set(SECRETS)
    assert all(op == ":?" for _, op in uses), uses
    for missing in SECRETS:
        environment = {name: "s3cret-value" for name in SECRETS if name != missing}
        with pytest.raises(LookupError, match=missing):
            interpolate(text, environment)
    rendered = interpolate(text, dict.fromkeys(SECRETS, "s3cret-value"))
    for weak in ("change-me", ":panda@", "ops:"):
        assert weak not in rendered


def test_only_the_proxy_is_published_and_flower_on_loopback_only(text: str) -> None:
    services = yaml.safe_load(interpolate(text, dict.fromkeys(SECRETS, "x")))["services"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert set(published) == {"proxy", "flower"}, published
    assert all(port.startswith("127.0.0.1:") for port in published["flower"])
    assert all(port.startswith("127.0.0.1:") for port in published["proxy"]), "loopback unless PANDA_BIND says"


def test_every_long_running_service_is_health_checked(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if service.get("restart") == "no":  # one-shot (migrate): waited for, not watched
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name


def test_redis_requires_a_password_that_every_redis_url_carries(text: str) -> None:
    services = yaml.safe_load(interpolate(text, dict.fromkeys(SECRETS, "r3dis-pw")))["services"]
    assert "--requirepass" in " ".join(services["redis"]["command"])
    assert services["redis"]["environment"]["REDIS_PASSWORD"] == "r3dis-pw"
    urls = [
        value
        for service in services.values()
        for value in (service.get("environment") or {}).values()
        if isinstance(value, str) and value.startswith("redis://")
    ]
    assert urls and all(url.startswith("redis://:r3dis-pw@") for url in urls), urls


def test_the_proxy_is_pinned_and_bounds_what_the_api_should_not_have_to(services: dict[str, Any]) -> None:
    image = services["proxy"]["image"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-alpine)?", image), image
    assert services["proxy"]["environment"]["MAX_UPLOAD_BYTES"] == services["api"]["environment"]["MAX_UPLOAD_BYTES"]
    config = NGINX.read_text(encoding="utf-8")
    for directive in (
        "client_header_timeout",
        "client_body_timeout",
        "keepalive_timeout",
        "large_client_header_buffers",
    ):
        assert re.search(rf"^\s*{directive}\s", config, re.MULTILINE), directive
    assert re.search(r"^\s*client_max_body_size 1m;", config, re.MULTILINE)
    uploads = config[config.index("location = /jobs") :]
    assert "client_max_body_size ${MAX_UPLOAD_BYTES};" in uploads
    assert "proxy_request_buffering off;" in uploads
    assert "$request " not in config and "$request_uri" not in config, "no path (an NHS number) in the access log"


def test_the_api_runs_with_auth_on(services: dict[str, Any]) -> None:
    """SPEC §9: compose serves a network, so every request but health, readiness and the schema needs a credential."""
    assert services["api"]["environment"]["AUTH_MODE"] == "on"
