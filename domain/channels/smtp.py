"""The ``smtp`` channel: a real e-mail to the patient's address.

The reminder id travels as the ``Message-ID`` and an ``X-Reminder-Id`` header, so a message
repeated after a crash can be recognised. One connection serves a whole drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from domain.channels.base import Channel, Delivery, ReminderMessage, SendFailure, failure_reason

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


def classify(exc: Exception) -> SendFailure:
    """5xx replies (address refused, message rejected) are permanent; the rest may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        permanent = bool(codes) and all(code in PERMANENT_SMTP_CODES for code in codes)
        return SendFailure(f"{failure_reason(exc)} {'/'.join(map(str, codes))}", permanent)
    if isinstance(exc, smtplib.SMTPResponseException):
        return SendFailure(f"{failure_reason(exc)} {exc.smtp_code}", exc.smtp_code in PERMANENT_SMTP_CODES)
    return SendFailure(failure_reason(exc))


class SmtpChannel(Channel):
    """Sends through ``SMTP_HOST:SMTP_PORT`` (optionally STARTTLS and login) from ``SMTP_SENDER``."""

    name = "smtp"
    _connection: smtplib.SMTP | None = None

    def recipient(self, email: str | None, phone: str | None) -> str | None:
        """Only an e-mail address will do."""
        return email

    async def deliver(self, session: AsyncSession, messages: list[ReminderMessage]) -> list[Delivery]:
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
            settings = self.settings
            connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.send_timeout_seconds)
            if settings.smtp_starttls:
                connection.starttls()
            if settings.smtp_username:
                connection.login(settings.smtp_username, settings.smtp_password or "")
            self._connection = connection
        return self._connection

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
