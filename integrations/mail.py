"""Sending email: SMTP (`SMTP_URL`), or capture into files under var/mail/ when no SMTP server is configured
(demo and local runs). No business rules here: the outbox decides what to send and when."""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from datetime import timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit
from integrations.errors import PermanentFailure
from loyalty.defaults import SMTP_TIMEOUT
from loyalty.domain.emails import with_unsubscribe


def build_message(row, sender: str, unsubscribe_url: str | None = None) -> EmailMessage:
    """The MIME message of an outbox row: text and HTML alternatives. The Message-ID is derived from the
    row's business key, so a copy sent again after a crash is recognisably the same email. With the
    customer's signed `unsubscribe_url`: in the footer, and as `List-Unsubscribe` with
    `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058: mail apps show an unsubscribe button
    that POSTs to it)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
    message["Date"] = format_datetime(created)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    message["Message-ID"] = f"<{hashlib.sha256(row.dedup_key.encode()).hexdigest()[:32]}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = row.language
    text, html = row.body_text, row.body_html
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text, html = with_unsubscribe(text, unsubscribe_url), html and with_unsubscribe(html, unsubscribe_url)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


class SmtpTransport:
    """One SMTP connection for a batch of messages. `smtp://` upgrades with STARTTLS when the server offers
    it (and refuses to send a password over a connection that is not encrypted, except to localhost);
    `smtps://` is TLS from the start (port 465)."""

    name = "smtp"

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 587)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpTransport":
        context = ssl.create_default_context()
        if self.tls:
            self.smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            self.smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
            self.smtp.ehlo()
            if self.smtp.has_extn("starttls"):
                self.smtp.starttls(context=context)
                self.smtp.ehlo()
            elif self.user and self.host not in ("localhost", "127.0.0.1", "::1"):
                raise smtplib.SMTPException(f"{self.host} offers no STARTTLS: the password is not sent in clear")
        if self.user:
            self.smtp.login(self.user, self.password or "")
        return self

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server; PermanentFailure when it refuses it for good."""
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
            raise
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise

    def __exit__(self, *exc_info) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()


class CaptureTransport:
    """Writes each message to `DIR/SHOP/ID-KIND.eml` instead of sending it (no SMTP_URL): viewable with
    `loyalty notifications list`, at /dev/mail in demo mode, or in any mail client."""

    name = "capture"

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def __enter__(self) -> "CaptureTransport":
        return self

    def send(self, message: EmailMessage, *, shop: str = "shop", name: str | None = None) -> Path:
        """Store the message; returns the file written."""
        folder = self.directory / shop
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name or make_msgid().strip('<>')}.eml"
        path.write_bytes(bytes(message))
        return path

    def __exit__(self, *exc_info) -> None:
        return None


def transport_for(config):
    """SMTP when SMTP_URL is set, else capture under var/mail/."""
    return SmtpTransport(config.smtp_url) if config.smtp_url else CaptureTransport(config.var_dir / "mail")
