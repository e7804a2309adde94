"""A minimal headless-Chromium driver over the DevTools protocol (CDP), for page tests.

Chromium comes from Debian (``apt-get install -y chromium``). It is started with a fresh profile
and ``--remote-debugging-port=0``; the port it picks is read from ``DevToolsActivePort``. Console
messages, uncaught exceptions and browser log entries (failed loads, CSP refusals) are collected
so a test can insist there are none.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
INSTALL_HINT = "headless Chromium is required: apt-get install -y chromium"


@dataclass
class Page:
    """One browser tab, attached through a flat CDP session."""

    socket: ClientConnection
    session_id: str
    problems: list[str] = field(default_factory=list)
    pump: asyncio.Task[None] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _events: dict[str, asyncio.Event] = field(default_factory=dict)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method in this tab and return its result."""
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self.socket.send(
            json.dumps({"id": message_id, "method": method, "params": params, "sessionId": self.session_id})
        )
        return await asyncio.wait_for(future, timeout=30)

    def expect(self, event: str) -> asyncio.Event:
        """An event flag to await after triggering ``event`` (e.g. ``Page.loadEventFired``)."""
        self._events[event] = asyncio.Event()
        return self._events[event]

    def dispatch(self, message: dict[str, Any]) -> None:
        """Route one incoming CDP message to its caller, or record it as a problem."""
        if "id" in message and message["id"] in self._pending:
            future = self._pending.pop(message["id"])
            if "error" in message:
                future.set_exception(RuntimeError(str(message["error"])))
            else:
                future.set_result(message.get("result", {}))
            return
        method = message.get("method", "")
        params = message.get("params", {})
        if method in self._events:
            self._events[method].set()
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning", "assert"}:
            self.problems.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            self.problems.append(f"exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in {"error", "warning"}:
            self.problems.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")

    async def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        loaded = self.expect("Page.loadEventFired")
        await self.send("Page.navigate", url=url)
        await asyncio.wait_for(loaded.wait(), timeout=30)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def screenshot(self, path: Path) -> bytes:
        """A PNG of the whole page, also written to ``path``."""
        size = (await self.send("Page.getLayoutMetrics"))["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = await self.send("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)
        data = base64.b64decode(shot["data"])
        path.write_bytes(data)
        return data

    async def pdf(self) -> bytes:
        """The page as printed (print media styles applied)."""
        return base64.b64decode((await self.send("Page.printToPDF", printBackground=True))["data"])


@asynccontextmanager
async def chromium_page(extra_flags: tuple[str, ...] = ()) -> AsyncIterator[Page]:
    """A fresh headless Chromium with one tab whose console and log are watched."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, INSTALL_HINT
    # Chromium's helper processes can still write to the profile for a moment after the browser
    # exits: the whole process group is killed before the profile goes.
    with tempfile.TemporaryDirectory(prefix="panda-chromium-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            endpoint = await _devtools_endpoint(Path(profile) / "DevToolsActivePort", process)
            async with connect(endpoint, max_size=None) as socket:
                page = await _attach(socket)
                try:
                    yield page
                finally:
                    if page.pump is not None:
                        page.pump.cancel()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


async def _devtools_endpoint(port_file: Path, process: subprocess.Popen[bytes]) -> str:
    for _ in range(300):
        if port_file.exists() and len(lines := port_file.read_text().split()) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        assert process.poll() is None, "Chromium exited before it opened its DevTools port"
        await asyncio.sleep(0.1)
    raise AssertionError("Chromium did not open its DevTools port within 30 s")


async def _attach(socket: ClientConnection) -> Page:
    """Open a tab, attach to it and start routing messages."""
    await socket.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": "about:blank"}}))
    target = await _reply(socket, 1)
    await socket.send(
        json.dumps(
            {"id": 2, "method": "Target.attachToTarget", "params": {"targetId": target["targetId"], "flatten": True}}
        )
    )
    page = Page(socket, (await _reply(socket, 2))["sessionId"])

    async def pump() -> None:
        async for raw in socket:
            message = json.loads(raw)
            if message.get("sessionId") == page.session_id:
                page.dispatch(message)

    page.pump = asyncio.get_running_loop().create_task(pump())
    for domain in ("Page", "Runtime", "Log"):
        await page.send(f"{domain}.enable")
    await page.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
    return page


async def _reply(socket: ClientConnection, message_id: int) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
        if message.get("id") == message_id:
            assert "error" not in message, message
            return dict(message["result"])
