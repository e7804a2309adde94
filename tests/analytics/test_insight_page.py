"""``GET /insight``: the charts page, served for real and rendered by headless Chromium."""

from __future__ import annotations

import asyncio
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest
import uvicorn

from api.app import create_app
from panda.examples import load_examples
from tests.analytics.browser import chromium_page

SVG_NS = "{http://www.w3.org/2000/svg}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def loaded(sessions) -> None:
    await load_examples(sessions)


@pytest.fixture
async def served(settings, engine, loaded) -> AsyncIterator[str]:
    """The API on a real loopback port, on this test's event loop, over the loaded example data."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the API server stopped while starting"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=15)


def svg_documents(html: str) -> list[ET.Element]:
    return [ET.fromstring(text) for text in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)]


@pytest.mark.usefixtures("loaded")
async def test_the_page_is_html_with_two_valid_svg_charts_and_no_script(client) -> None:
    response = await client.get("/insight")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8", "one charset parameter (RFC 6838 §4.3)"
    assert "script-src" not in response.headers["content-security-policy"]
    html = response.text
    assert "<script" not in html.lower()
    charts = svg_documents(html)
    assert len(charts) == 2
    monthly, top = charts
    assert monthly.find(f"{SVG_NS}title").text == "Missed minutes per month, by department"
    segment_titles = [t.text for t in monthly.iter(f"{SVG_NS}title")][1:]
    assert segment_titles and all("missed minutes" in t for t in segment_titles)
    assert {"orthopaedics", "oncology"} <= {t.split(",")[0] for t in segment_titles}
    assert len(top.findall(f".//{SVG_NS}rect")) == len(top.findall(f".//{SVG_NS}g"))
    assert 'for="from"' in html and 'for="to"' in html and 'for="department"' in html


@pytest.mark.usefixtures("loaded")
async def test_filters_narrow_the_charts(client) -> None:
    everything = (await client.get("/insight")).text
    one = (await client.get("/insight", params={"department": "Oncology", "from": "2020-01-01", "to": ""})).text
    titles = [t.text for t in svg_documents(one)[0].iter(f"{SVG_NS}title")][1:]
    assert titles and all(t.startswith("oncology, ") for t in titles)
    assert all(int(t.split(", ")[1][:4]) >= 2020 for t in titles)
    assert 'value="2020-01-01"' in one and len(one) < len(everything)


async def test_bad_filters_are_a_problem_document(client) -> None:
    response = await client.get("/insight", params={"from": "soon"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "from"


async def test_chromium_renders_the_page_without_console_errors(served, tmp_path) -> None:
    async with chromium_page() as page:
        await page.open(f"{served}/insight")
        assert await page.evaluate("document.title") == "Missed appointments — PANDA insight"
        sizes = await page.evaluate(
            "[...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect())"
            ".map(box => [box.width, box.height])"
        )
        assert len(sizes) == 2 and all(width > 300 and height > 100 for width, height in sizes), sizes
        bars = await page.evaluate("document.querySelectorAll('svg rect').length")
        assert bars > 10
        png = await page.screenshot(tmp_path / "insight.png")
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        await page.send("Emulation.setEmulatedMedia", media="print")
        assert await page.evaluate("getComputedStyle(document.querySelector('form')).display") == "none"
        assert (await page.pdf()).startswith(b"%PDF")
        await asyncio.sleep(0.2)  # let late log entries arrive before judging
        assert page.problems == []
