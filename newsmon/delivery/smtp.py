"""The email channel: a multipart text + HTML message over SMTP.

``smtps://host[:465]`` speaks TLS from the first byte; ``smtp://host[:587]`` upgrades
with STARTTLS whenever the server offers it. Credentials come only from the
environment (``NEWSMON_SMTP_USER``, ``NEWSMON_SMTP_PASSWORD``) and are sent only
over TLS: a server that does not offer STARTTLS gets no password. Certificates are
verified against the system's trust store (``SSL_CERT_FILE`` is honoured).

The server accepting the message for every recipient is what "delivered" means;
a recipient refused makes the whole send fail, so the next digest repeats it rather
than a reader silently missing it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from newsmon.delivery.base import DeliveryError, scrub
from newsmon.digest import Digest, digest_subject
from newsmon.digest.render import render_html, render_markdown, render_text

DEFAULT_SENDER = "newsmon@localhost"


@dataclass(frozen=True, slots=True)
class SmtpCredentials:
    user: str
    password: str

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"SmtpCredentials(user={self.user!r}, password='***')"


def build_email(digest: Digest, fmt: str, sender: str, recipients: Sequence[str]
                ) -> EmailMessage:
    """The message: a text part (Markdown when ``fmt`` is markdown) and an HTML part."""
    message = EmailMessage()
    message["Subject"] = " ".join(digest_subject(digest).split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(digest.generated_at)
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=digest.key[:16], domain=domain)
    message["X-Newsmon-Digest"] = digest.key
    message.set_content(render_markdown(digest) if fmt == "markdown" else render_text(digest))
    message.add_alternative(render_html(digest), subtype="html")
    return message


class SmtpChannel:
    def __init__(self, name: str, host: str, port: int, *, implicit_tls: bool,
                 sender: str, recipients: Sequence[str],
                 credentials: SmtpCredentials | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 30.0) -> None:
        self.name = name
        self._host = host
        self._port = port
        self._implicit_tls = implicit_tls
        self._sender = sender
        self._recipients = tuple(recipients)
        self._credentials = credentials
        self._context = ssl_context
        self._timeout = timeout

    def send(self, digest: Digest, fmt: str) -> None:
        message = build_email(digest, fmt, self._sender, self._recipients)
        secrets = [self._credentials.password] if self._credentials else []
        try:
            with self._connect() as client:
                self._secure_and_login(client)
                refused = client.send_message(message, self._sender, list(self._recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"{self.name}: recipients refused: "
                                f"{', '.join(sorted(exc.recipients))}") from None
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            raise DeliveryError(scrub(f"{self.name}: {_describe(exc)}", secrets)) from None
        if refused:
            raise DeliveryError(f"{self.name}: recipients refused: {', '.join(sorted(refused))}")

    def _connect(self) -> smtplib.SMTP:
        if self._implicit_tls:
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout,
                                    context=self._tls_context())
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)

    def _secure_and_login(self, client: smtplib.SMTP) -> None:
        client.ehlo()
        if not self._implicit_tls:
            if client.has_extn("starttls"):
                client.starttls(context=self._tls_context())
                client.ehlo()
            elif self._credentials is not None:
                raise DeliveryError(f"{self.name}: the server does not offer STARTTLS; "
                                    "refusing to send credentials in clear text")
        if self._credentials is not None:
            client.login(self._credentials.user, self._credentials.password)

    def _tls_context(self) -> ssl.SSLContext:
        return self._context or ssl.create_default_context()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{type(exc).__name__} {exc.smtp_code} {text}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
