"""The ``smtp`` channel: a real e-mail to the patient's address.

The reminder id travels as the ``Message-ID`` and an ``X-Reminder-Id`` header, so a message
repeated after a crash can be recognised. One connection serves a whole drain.

Transport security (``SMTP_TLS``): ``starttls`` upgrades a plain connection (port 587 or 25),
``implicit`` speaks TLS from the first byte (port 465), ``none`` is for a relay on the same host
or a trusted network. Certificates are always verified, against the system's CAs or those of
``SMTP_CA_FILE``, and the host name must match. Credentials are never sent without TLS: with
``none`` and ``SMTP_USERNAME`` set, no connection is made at all and every send fails
permanently, so the misconfiguration shows as ``failed`` reminders, not as a leaked password.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.channels.base import Channel, Delivery, ReminderMessage, SendFailure, failure_reason
from domain.config import Settings
from domain.rules.preferences import Medium

MESSAGE_ID_DOMAIN = "reminders.panda"
PERMANENT_SMTP_CODES = range(500, 600)


def build_email(message: ReminderMessage, sender: str) -> EmailMessage:
    """The e-mail for ``message``: its ``Message-ID`` is derived from the reminder id."""
    assert message.email is not None
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.email
    email["Subject"] = message.subject
    email["Message-ID"] = f"<{message.reminder_id}@{MESSAGE_ID_DOMAIN}>"
    email["X-Reminder-Id"] = str(message.reminder_id)
    email.set_content(message.body)
    return email


TlsMode = Literal["starttls", "implicit", "none"]


class CredentialsWithoutTls(smtplib.SMTPException):
    """``SMTP_USERNAME`` is set but ``SMTP_TLS`` is ``none``: the password would cross in clear."""


def tls_mode(settings: Settings) -> TlsMode:
    """``SMTP_TLS``; when unset, the older ``SMTP_STARTTLS`` flag decides between starttls and none."""
    if settings.smtp_tls is not None:
        return settings.smtp_tls
    return "starttls" if settings.smtp_starttls else "none"


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and name (``SMTP_CA_FILE`` if set)."""
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)


def open_connection(settings: Settings) -> smtplib.SMTP:
    """A connection ready to send: TLS as configured, then login only if TLS is in place."""
    mode = tls_mode(settings)
    if settings.smtp_username and mode == "none":
        raise CredentialsWithoutTls("SMTP_USERNAME is set but SMTP_TLS is none")
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.send_timeout_seconds
    connection: smtplib.SMTP
    if mode == "implicit":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(settings))
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if mode == "starttls":
            connection.starttls(context=tls_context(settings))
        if settings.smtp_username:
            connection.login(settings.smtp_username, settings.smtp_password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def classify(exc: Exception) -> SendFailure:
    """5xx replies (address refused, message rejected) and a refused configuration are permanent."""
    if isinstance(exc, CredentialsWithoutTls):
        return SendFailure(failure_reason(exc), permanent=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        permanent = bool(codes) and all(code in PERMANENT_SMTP_CODES for code in codes)
        return SendFailure(f"{failure_reason(exc)} {'/'.join(map(str, codes))}", permanent)
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendFailure(f"{failure_reason(exc)} {exc.smtp_code}", exc.smtp_code in PERMANENT_SMTP_CODES)
    return SendFailure(failure_reason(exc))


class SmtpChannel(Channel):
    """Sends from ``SMTP_SENDER`` through ``SMTP_HOST:SMTP_PORT``: TLS per ``SMTP_TLS``, then login if configured."""

    name = "smtp"
    media = frozenset({Medium.EMAIL})  # a patient whose reminders go by SMS is skipped
    _connection: smtplib.SMTP | None = None

    async def deliver(self, session: AsyncSession | None, messages: list[ReminderMessage]) -> list[Delivery]:
        """Send each message in a thread: smtplib blocks."""
        return [await asyncio.to_thread(self._send, message) for message in messages]

    def _send(self, message: ReminderMessage) -> Delivery:
        email = build_email(message, self.settings.smtp_sender)
        try:
            self._connect().send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return classify(exc)
        return None

    def _connect(self) -> smtplib.SMTP:
        if self._connection is None:
            self._connection = open_connection(self.settings)
        return self._connection

    async def abandon(self) -> None:
        """A send overran its deadline: close its connection under it (its thread then fails and ends)."""
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()

    async def aclose(self) -> None:
        """Say QUIT politely; a broken connection is simply dropped."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await asyncio.to_thread(connection.quit)
            except (smtplib.SMTPException, OSError):
                connection.close()
