"""Real parts for the digest and delivery tests: stored matches, receivers, servers.

* :func:`store_article` / :func:`store_match` / :func:`make_story` put rows in a real
  database through the storage functions (stories directly, as same-story detection
  is another stage);
* :class:`HttpReceiver` is an HTTP server on 127.0.0.1 port 0 that records each
  request and answers with a scripted status (so a webhook can fail, then succeed);
* :class:`SmtpServer` is a real SMTP server (aiosmtpd) on 127.0.0.1 port 0, with
  optional STARTTLS, implicit TLS, login, and a scripted rejection;
* :func:`make_certificate` writes a self-signed certificate for 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession

from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database
from newsmon.storage.matches import record_matches
from newsmon.storage.models import Article, Story
from newsmon.storage.topics import add_topic, get_topic
from newsmon.values import ExtractedArticle, NewMatch, NormalizedArticle
from tests.local_http import LocalServer, send

T0 = dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
XSS_TITLE = "青島港<script>alert(1)</script>新航線"


def store_article(database: Database, site: str, url: str, title: str, body: str,
                  published: dt.datetime, outlet: str | None = "大衆網") -> int:
    article = ExtractedArticle(url=url, canonical_url=url, title=title, body=body,
                               published_at=published, source=outlet, script="traditional")
    item = NormalizedArticle(article=article, title_norm=title, body_norm=body,
                             content_hash=str(abs(hash((url, body)))), fetched_at=T0)
    with database.session() as session, session.begin():
        return upsert_article(session, ensure_source(session, site), item).article_id


def store_match(database: Database, topic: str, article_id: int, variant: str,
                snippet: str, flagged: bool = True) -> None:
    with database.session() as session, session.begin():
        existing = get_topic(session, topic)
        topic_id = existing.id if existing else add_topic(session, topic, topic, T0).id
        hit = {"term": topic, "variant": variant, "field": "body", "start": 0,
               "end": len(variant)}
        record_matches(session, [NewMatch(topic_id, article_id, flagged, [hit], snippet)], T0)


def make_story(database: Database, article_ids: list[int], origin: str | None) -> int:
    """What same-story detection records: one story, its copies pointing at it."""
    with database.session() as session, session.begin():
        story = Story(first_seen=T0, origin=origin)
        session.add(story)
        session.flush()
        for article_id in article_ids:
            article = session.get(Article, article_id)
            assert article is not None
            article.story_id = story.id
        return story.id


def seed_two_topics(database: Database) -> dict[str, int]:
    """Three articles about 青島 (one story published by two outlets, plus one more)
    and one about 烟台; returns the article ids by a short name."""
    ids = {
        "original": store_article(
            database, "dzwww", "http://dz.example/a/1.html", "青島港開通新航線",
            "新華社青島電 青島港今天開通新航線。", dt.datetime(2024, 5, 1, 9, 0, tzinfo=SHANGHAI),
            outlet="新華社"),
        "copy": store_article(
            database, "bandao", "http://bd.example/n/9.html", "青岛港开通新航线",
            "青岛港今天开通新航线。", dt.datetime(2024, 5, 1, 10, 30, tzinfo=SHANGHAI),
            outlet="新华社"),
        "other": store_article(
            database, "qingdaonews", "http://qd.example/x/2.html", "島城地鐵六號線開通",
            "青島地鐵六號線今天開通運營。", dt.datetime(2024, 5, 1, 8, 0, tzinfo=SHANGHAI),
            outlet="青島新聞網"),
        "yantai": store_article(
            database, "bandao", "http://bd.example/n/10.html", "烟台苹果节开幕",
            "烟台苹果节今天开幕。", dt.datetime(2024, 5, 1, 7, 0, tzinfo=SHANGHAI),
            outlet="半岛网"),
    }
    store_match(database, "青島", ids["original"], "青島", "新華社青島電 青島港今天開通新航線。")
    store_match(database, "青島", ids["copy"], "青岛", "青岛港今天开通新航线。")
    store_match(database, "青島", ids["other"], "青島", "青島地鐵六號線今天開通運營。")
    store_match(database, "烟台", ids["yantai"], "烟台", "烟台苹果节今天开幕。")
    make_story(database, [ids["original"], ids["copy"]], origin="新華社")
    return ids


# --------------------------------------------------------------------------------------
# HTTP receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpReceiver:
    """Records POSTs; answers ``statuses`` in turn, then 200 (e.g. [503, 503]); a 429
    carries ``Retry-After: retry_after``."""

    statuses: list[int] = field(default_factory=list)
    retry_after: str = "0"
    on_request: Callable[[Received], None] | None = None
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @contextmanager
    def running(self) -> Iterator[HttpReceiver]:
        receiver = self

        def answer(handler: BaseHTTPRequestHandler) -> None:
            length = int(handler.headers.get("Content-Length", "0"))
            got = Received(handler.path, dict(handler.headers.items()), handler.rfile.read(length))
            receiver.requests.append(got)
            if receiver.on_request is not None:
                receiver.on_request(got)
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            send(status, b"ok", "text/plain",
                 {"Retry-After": receiver.retry_after} if status == 429 else None)(handler)

        with LocalServer(on_post=answer) as server:
            self.port = server.port
            yield self

# --------------------------------------------------------------------------------------
# SMTP server


@dataclass
class SmtpHandler:
    """Keeps every accepted message; ``reject`` makes the next DATA fail with 451."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    reject: int = 0

    async def handle_DATA(self, server: SMTPServer, session: SmtpSession,
                          envelope: Envelope) -> str:
        if self.reject:
            self.reject -= 1
            return "451 4.3.0 try again later"
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


class _PortZeroController(Controller):
    """aiosmtpd's controller, bound to a free port chosen by the OS."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class SmtpServer:
    handler: SmtpHandler
    controller: Controller

    @property
    def port(self) -> int:
        return int(self.controller.port)


def _authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    def check(server: SMTPServer, session: SmtpSession, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(*, starttls: ssl.SSLContext | None = None,
                implicit_tls: ssl.SSLContext | None = None,
                login: tuple[str, str] | None = None) -> Iterator[SmtpServer]:
    handler = SmtpHandler()
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if login is not None:
        kwargs.update(authenticator=_authenticator(*login), auth_require_tls=True)
    controller = _PortZeroController(handler, hostname="127.0.0.1", port=0,
                                     ssl_context=implicit_tls, **kwargs)
    controller.start()
    try:
        yield SmtpServer(handler, controller)
    finally:
        controller.stop()


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def client_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def parts(message: EmailMessage) -> dict[str, str]:
    """The text/plain and text/html bodies of a multipart/alternative message."""
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = part.get_content()
    return found
