"""The interactive API docs work with no internet: every asset comes from PANDA itself.

Litestar's default renderers load their scripts from a public CDN (one of them ``@latest``): on
a hospital network without internet the page stays blank. Here the HTML may reference nothing
but same-origin paths, those paths answer with the right types, and headless Chromium, with
every address but loopback unreachable, lists the API's operations.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.analytics.browser import chromium_page
from tests.http.live_server import live_api

DOCS_PAGES = ["/schema", "/schema/swagger"]
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
# Every request to an address other than loopback goes to a proxy nobody runs: "network off".
OFFLINE = ("--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("page", DOCS_PAGES)
async def test_the_docs_page_references_only_panda_s_own_assets(client, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = [a or b for a, b in REFERENCE.findall(response.text)]
    assert references, "the page loads its script and styles"
    foreign = [ref for ref in references if urlsplit(ref).netloc or not ref.startswith("/")]
    assert foreign == [], "every asset is same-origin"
    assert "@latest" not in response.text
    for reference in references:
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        suffix = reference[reference.rfind(".") :]
        assert ASSET_TYPES[suffix] in asset.headers["content-type"], (reference, asset.headers["content-type"])


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_docs_list_every_operation_with_the_network_off(settings) -> None:
    with live_api(settings, processes=1) as base_url:
        schema = httpx.get(f"{base_url}/schema/openapi.json", timeout=10).json()
        operations = sum(len(methods) for methods in schema["paths"].values())
        async with chromium_page(OFFLINE) as page:
            await page.open(f"{base_url}/schema")
            listed = 0
            for _ in range(300):  # up to 30 s for Swagger UI to render
                listed = await page.evaluate("document.querySelectorAll('.opblock').length")
                if listed:
                    break
                await asyncio.sleep(0.1)
            paths = await page.evaluate(
                "[...document.querySelectorAll('.opblock-summary-path')]"
                ".map(e => e.textContent.replace(/\\u200b/g, ''))"
            )
            problems = list(page.problems)
    assert listed == operations, f"{listed} of {operations} operations listed; page problems: {problems}"
    assert {"/patients", "/appointments", "/health"} <= set(paths)
    assert [p for p in problems if "Failed to load" in p or "ERR_" in p] == []
