"""Sending one outbox message: e-mail over SMTP; SMS through the same interface.

No SMS provider is built in: a deployment that wants SMS writes a class with a `send` method
like `SmtpSender` and returns it from `sender_for` (docs/operations.md).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from pallapp.models import OutboxMessage


class DeliveryError(Exception):
    """The message could not be handed over; the outbox tries again later."""


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


class SmtpSender:
    """Hands e-mail to an SMTP server (PALLAPP_SMTP_* settings).

    `SMTP_SECURITY`: "starttls" (default; upgrade a plain connection, port 587), "tls" (TLS
    from the start, port 465) or "none" (only for a relay on the same host or in tests).
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = str(config["SMTP_HOST"])
        self.port = int(config["SMTP_PORT"])
        self.security = str(config["SMTP_SECURITY"])
        self.username = config.get("SMTP_USERNAME") or None
        self.password = config.get("SMTP_PASSWORD") or None
        self.sender = str(config["MAIL_FROM"])
        self.timeout = float(config["SMTP_TIMEOUT"])

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            connection.starttls(context=ssl.create_default_context())
        return connection

    def send(self, message: OutboxMessage) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        # One id per outbox row: a receiving system that sees the same message twice (after a
        # crash between handing over and recording it) can tell it is the same.
        mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
        mail.set_content(message.body)
        try:
            with self._connect() as connection:
                if self.username and self.password:
                    connection.login(self.username, self.password)
                connection.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from error


class NoSmsProvider:
    """The default for SMS: refuses, so an SMS waits in the outbox, visible to staff as failed."""

    def send(self, message: OutboxMessage) -> None:
        raise DeliveryError("no SMS provider configured")


def sender_for(channel: str, config: Mapping[str, Any]) -> Sender:
    if channel == "email":
        return SmtpSender(config)
    return NoSmsProvider()
