"""The smtp channel's transport security against real TLS servers on loopback (aiosmtpd).

A certificate PANDA cannot verify is refused before anything is sent; a certificate signed by the
CA of ``SMTP_CA_FILE`` is accepted, over STARTTLS and over implicit TLS (port 465 style); and
credentials are never sent without TLS. The certificates come from a CA made in the test
(``trustme``), trusted by nothing unless the test says so.
"""

from __future__ import annotations

import datetime as dt
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from domain.channels.base import ReminderMessage, SendFailure
from domain.channels.smtp import SmtpChannel
from domain.config import Settings
from domain.rules.preferences import Language, Medium
from tests.reminders.servers import SmtpRecorder, free_port

USER, PASSWORD = "panda", "not-in-clear-please"


class Logins:
    """An aiosmtpd authenticator that records every login attempt (and accepts the right one)."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, bool]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        encrypted = bool(session.ssl) or server.transport.get_extra_info("ssl_object") is not None
        self.attempts.append((login, encrypted))
        return AuthResult(success=(login, password) == (USER, PASSWORD))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
    return context


@contextmanager
def tls_server(context: ssl.SSLContext | None, implicit: bool = False) -> Iterator[tuple[SmtpRecorder, Logins, int]]:
    """An SMTP server on loopback: STARTTLS offered with ``context``, or TLS from the first byte."""
    recorder, logins, port = SmtpRecorder(), Logins(), free_port()
    tls: dict[str, Any] = {"ssl_context": context} if implicit else {"tls_context": context}
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        authenticator=logins,
        auth_require_tls=False,  # a careless relay: it would take a password in clear
        **tls,
    )
    controller.start()
    try:
        yield recorder, logins, port
    finally:
        controller.stop()


def message() -> ReminderMessage:
    return ReminderMessage(
        reminder_id=uuid.uuid4(),
        appointment_id=uuid.uuid4(),
        starts_at=dt.datetime(2031, 6, 4, 15, 30, tzinfo=dt.UTC),
        medium=Medium.EMAIL,
        language=Language.ENGLISH,
        recipient="ann@example.org",
        subject="Your appointment",
        body="See you soon.",
    )


async def send(port: int, **settings: Any) -> SendFailure | None:
    channel = SmtpChannel(
        Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_username=USER, smtp_password=PASSWORD, **settings)
    )
    try:
        [outcome] = await channel.deliver(None, [message()])  # type: ignore[arg-type]
    finally:
        await channel.aclose()
    return outcome


async def test_starttls_refuses_a_certificate_it_cannot_verify(ca: trustme.CA) -> None:
    with tls_server(server_context(ca)) as (recorder, logins, port):
        outcome = await send(port, smtp_tls="starttls")
    assert outcome == SendFailure("SSLCertVerificationError")
    assert logins.attempts == [], "no password may go to an unverified server"
    assert recorder.accepted == []


async def test_the_older_starttls_flag_verifies_certificates_too(ca: trustme.CA) -> None:
    with tls_server(server_context(ca)) as (recorder, logins, port):
        outcome = await send(port, smtp_starttls=True)
    assert isinstance(outcome, SendFailure)
    assert logins.attempts == [] and recorder.accepted == []


async def test_starttls_accepts_a_certificate_of_the_configured_ca(ca: trustme.CA, ca_file: Path) -> None:
    with tls_server(server_context(ca)) as (recorder, logins, port):
        outcome = await send(port, smtp_tls="starttls", smtp_ca_file=ca_file)
    assert outcome is None
    assert logins.attempts == [(USER, True)], "logged in, over TLS"
    assert len(recorder.accepted) == 1


async def test_starttls_refuses_a_certificate_for_another_host(ca: trustme.CA, ca_file: Path) -> None:
    with tls_server(server_context(ca, "mail.elsewhere.test")) as (recorder, logins, port):
        outcome = await send(port, smtp_tls="starttls", smtp_ca_file=ca_file)
    assert isinstance(outcome, SendFailure)
    assert logins.attempts == [] and recorder.accepted == []


async def test_implicit_tls_accepts_the_configured_ca_and_refuses_others(ca: trustme.CA, ca_file: Path) -> None:
    with tls_server(server_context(ca), implicit=True) as (recorder, logins, port):
        refused = await send(port, smtp_tls="implicit")
        accepted = await send(port, smtp_tls="implicit", smtp_ca_file=ca_file)
    assert isinstance(refused, SendFailure)
    assert accepted is None
    assert logins.attempts == [(USER, True)]
    assert len(recorder.accepted) == 1


async def test_credentials_are_never_sent_without_tls() -> None:
    with tls_server(None) as (recorder, logins, port):
        outcome = await send(port, smtp_tls="none")
    assert outcome == SendFailure("CredentialsWithoutTls", permanent=True)
    assert logins.attempts == [], "the password must not cross in clear"
    assert recorder.attempts == 0
