"""Sending the outbox: one transaction per message, so a crash never sends twice."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import OutboxMessage, utcnow

log = logging.getLogger(__name__)
# A claimed message not marked sent within this time is tried again.
STALE_CLAIM = timedelta(minutes=10)


class Backend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass
class MemoryBackend:
    """Keeps sent messages in a list: for tests."""

    sent: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class ConsoleBackend:
    """Prints messages: for development."""

    def send(self, message: EmailMessage) -> None:
        print(f"--- e-mail to {message['To']}: {message['Subject']}\n"
              f"{message.get_content()}")


@dataclass
class SmtpBackend:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = True
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        try:
            self._send(message)
        except (OSError, smtplib.SMTPException) as error:
            # Which server: "Connection refused" alone does not say where to look.
            raise smtplib.SMTPException(f"{self.host}:{self.port}: {error}") from error

    def _send(self, message: EmailMessage) -> None:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
        finally:
            # Once the server has accepted the message it is sent: an odd answer to QUIT,
            # or none, must not make it go out again at the next run.
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email["Message-ID"] = f"<outbox-{message.id}@{sender.split('@')[-1]}>"
    email.set_content(message.body)
    return email


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0       # tried again at the next run
    given_up: int = 0     # refused for good by the server
    last_error: str = ""


def _answer(error: Exception) -> Exception:
    """The server's own answer inside the error SmtpBackend raises to name the server."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def refused_for_good(error: Exception) -> bool:
    """This message is refused for good: the server's permanent answer to its recipient or
    its content (a 5xx to RCPT TO or DATA: no such mailbox, say), or a message the e-mail
    library cannot write. Trying it again gives the same answer."""
    error = _answer(error)
    if isinstance(error, ValueError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and 500 <= error.smtp_code < 600


def server_unusable(error: Exception) -> bool:
    """An answer about the server or our account, not this message (a wrong password, a
    refused sender, a refused connection or greeting): every message would get it, so the
    run stops and they all wait."""
    return isinstance(_answer(error), (
        smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused, smtplib.SMTPConnectError,
        smtplib.SMTPHeloError, smtplib.SMTPNotSupportedError, ConnectionError))


def send_pending(session: Session, backend: Backend, sender: str,
                 limit: int = 500) -> SendReport:
    """Send each unsent message once: claim it, send it, mark it sent, one at a time. The
    least tried go first, so messages that keep failing do not hold up new ones; one the
    server refuses for good is given up at once."""
    report = SendReport()
    ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None),
                                                         OutboxMessage.given_up_at.is_(None))
                          .order_by(OutboxMessage.attempts, OutboxMessage.id)
                          .limit(limit)).all()
    session.commit()
    for position, message_id in enumerate(ids):
        now = utcnow()
        claimed = session.execute(
            update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
                (OutboxMessage.claimed_at.is_(None)) | (OutboxMessage.claimed_at < now - STALE_CLAIM))
            .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        session.commit()
        if claimed.rowcount != 1:
            continue  # another sender has it
        message = session.get(OutboxMessage, message_id)
        try:
            backend.send(build_email(message, sender))
        except (OSError, smtplib.SMTPException, ValueError) as error:
            # ValueError: a header the e-mail library refuses (a line break in a subject);
            # the message waits with its error, and the rest are still sent.
            message.claimed_at, message.last_error = None, str(error)[:500]
            if refused_for_good(error):
                message.given_up_at = utcnow()
                report.given_up += 1
            else:
                report.failed += 1
            session.commit()
            report.last_error = str(error)
            log.warning("sending message %s failed: %s", message_id, error)
            if server_unusable(error):
                report.failed += len(ids) - position - 1
                break   # the rest would get the same answer; they wait for the next run
            continue
        message.sent_at = utcnow()
        session.commit()
        report.sent += 1
    return report


def backend_for(app: Flask) -> Backend:
    """The configured backend: smtp in production, the console in development, memory in tests."""
    kind = app.config.get("MAIL_BACKEND", "console")
    if kind == "smtp":
        return SmtpBackend(app.config["MAIL_SERVER"], int(app.config.get("MAIL_PORT", 25)),
                           app.config.get("MAIL_USERNAME"), app.config.get("MAIL_PASSWORD"),
                           bool(app.config.get("MAIL_USE_TLS", True)))
    if kind == "memory":
        return app.extensions.setdefault("mail_memory", MemoryBackend())
    return ConsoleBackend()


def send_outbox(session: Session) -> SendReport:
    return send_pending(session, backend_for(current_app),
                        current_app.config.get("MAIL_FROM", "dataadgang@htk.dk"))
