"""The API served by uvicorn on a loopback port inside the test's event loop, and slow clients of it.

The in-process test client reads a whole request body before the app sees it, so an upload
that is still streaming needs a real server and a real socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from litestar import Litestar

from tests.http.live_server import free_port

DEADLINE_SECONDS = 30.0


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[int]:
    """Serve ``app`` on a free loopback port until the block ends; yield the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, "the server to start")
    try:
        yield port
    finally:
        server.should_exit = True
        server.force_exit = True
        await asyncio.wait_for(task, DEADLINE_SECONDS)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition``; fail (never hang) if it does not hold within the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


@dataclass
class SlowUpload:
    """A ``POST /jobs`` whose body is sent in part, then held back until :meth:`finish`."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    rest: bytes

    async def finish(self) -> int:
        """Send the rest of the body; return the response's status code."""
        self.writer.write(self.rest)
        await self.writer.drain()
        status_line = await asyncio.wait_for(self.reader.readline(), DEADLINE_SECONDS)
        self.writer.close()
        return int(status_line.split()[1])

    def abandon(self) -> None:
        """Drop the connection with the body unfinished."""
        self.writer.close()


async def start_slow_upload(port: int, body: bytes, sent: int = 16) -> SlowUpload:
    """Open a connection and send the headers and the first ``sent`` bytes of a CSV upload."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /jobs?kind=patients&mode=validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: text/csv\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[:sent])
    await writer.drain()
    return SlowUpload(reader, writer, body[sent:])


def files_in(directory: Path) -> list[Path]:
    """The files of ``directory`` (none if it does not exist yet)."""
    return [p for p in directory.iterdir() if p.is_file()] if directory.exists() else []
