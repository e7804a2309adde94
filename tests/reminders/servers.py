"""Real servers on loopback for the channels to talk to: SMTP (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that keeps what it accepts; ``replies`` answer the next DATA commands."""

    accepted: list[Message] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    attempts: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Refuse with the next scripted reply, or accept and record."""
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.accepted.append(message)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpRecorder, int]]:
    """An SMTP server on a free loopback port; yields its recorder and port."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


@dataclass
class WebhookRecorder:
    """What a webhook receiver got; ``statuses`` answer the next requests (then 202)."""

    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Cleared: each request waits (up to 60 s) for it to be set before it is answered, as a slow receiver.
    release: threading.Event = field(default_factory=lambda: _set(threading.Event()))

    def answer(self, headers: dict[str, str], body: dict[str, Any]) -> int:
        """Record the request and pick the reply status."""
        with self.lock:
            self.requests.append((headers, body))
            return self.statuses.pop(0) if self.statuses else 202


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


@contextmanager
def webhook_server() -> Iterator[tuple[WebhookRecorder, str]]:
    """An HTTP server on a free loopback port; yields its recorder and URL."""
    recorder = WebhookRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = recorder.answer({k.lower(): v for k, v in self.headers.items()}, body)
            recorder.release.wait(timeout=60)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: the bodies carry (test) contact details."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, f"http://127.0.0.1:{server.server_address[1]}/notify"
    finally:
        recorder.release.set()
        server.shutdown()
        server.server_close()
