"""Email delivery against a real SMTP server on localhost (aiosmtpd).

The server receives the digest and the test parses both parts; STARTTLS, implicit
TLS and login use a self-signed certificate made for the test; a server that is down
or rejects the message leaves the matches pending, and the next digest sends them,
once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsmon.app.digests import run_digest
from newsmon.cli import cli
from newsmon.config import SubscriptionConfig
from newsmon.delivery import ChannelError, open_channel
from newsmon.storage.digests import recent_digests
from newsmon.storage.engine import Database
from newsmon.storage.matches import undelivered_matches
from tests.digest_support import (
    client_context,
    make_certificate,
    parts,
    seed_two_topics,
    server_context,
    smtp_server,
    store_article,
    store_match,
)
from tests.local_http import refused_port

NOW = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)
DESK = SubscriptionConfig(name="desk", email_to=("desk@example.org",),
                          email_from="newsmon@example.org")
USER, PASSWORD = "newsroom", "s3cret-Pa55"


def pending(database: Database) -> int:
    with database.session() as session:
        return len(undelivered_matches(session, "desk"))


def test_the_email_arrives_with_a_text_and_an_html_part(database: Database) -> None:
    seed_two_topics(database)
    with smtp_server() as server:
        channel = open_channel(f"smtp://127.0.0.1:{server.port}", env={}, base_dir=Path("."),
                               write=print, email_to=DESK.email_to, email_from=DESK.email_from)
        outcome = run_digest(database, DESK, channel, "text", NOW)
    assert outcome.status == "sent", outcome.error
    [message] = server.handler.messages
    assert message["Subject"] == "newsmon · desk: 3 new stories · 烟台、青島"
    assert message["From"] == "newsmon@example.org" and message["To"] == "desk@example.org"
    assert message.get_content_type() == "multipart/alternative"
    body = parts(message)
    assert "== 青島 · 2 stories · 3 outlets ==" in body["text/plain"]
    assert "1 story · 2 outlets · 来源 新華社" in body["text/plain"]
    assert 'class="topic" data-topic="青島"' in body["text/html"]
    assert "<mark" in body["text/html"]
    assert server.handler.envelopes == [("newsmon@example.org", ["desk@example.org"])]
    assert pending(database) == 0


def test_a_failed_send_leaves_the_matches_pending_and_the_next_digest_sends_them_once(
        database: Database) -> None:
    seed_two_topics(database)
    with refused_port() as port:
        down = open_channel(f"smtp://127.0.0.1:{port}", env={}, base_dir=Path("."),
                            write=print, email_to=DESK.email_to)
        failed = run_digest(database, DESK, down, "text", NOW)
    assert failed.status == "failed" and "connection refused" in (failed.error or "")
    assert pending(database) == 4

    with smtp_server() as server:
        channel = open_channel(f"smtp://127.0.0.1:{server.port}", env={}, base_dir=Path("."),
                               write=print, email_to=DESK.email_to)
        server.handler.reject = 1  # 451 on DATA: the server would not take it
        rejected = run_digest(database, DESK, channel, "text", NOW + timedelta(minutes=5))
        assert rejected.status == "failed" and "451" in (rejected.error or "")
        assert pending(database) == 4 and server.handler.messages == []

        sent = run_digest(database, DESK, channel, "text", NOW + timedelta(minutes=10))
        again = run_digest(database, DESK, channel, "text", NOW + timedelta(minutes=15))
    assert sent.status == "sent" and sent.matches == 4
    assert again.status == "empty"
    [message] = server.handler.messages  # the held-back matches, exactly once
    assert parts(message)["text/plain"].count("http://") == 4
    with database.session() as session:
        runs = [(r.status, r.matches) for r in reversed(recent_digests(session, "desk"))]
    assert runs == [("failed", 0), ("failed", 0), ("sent", 4), ("empty", 0)]


def test_starttls_and_a_login_from_the_environment(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    cert, key = make_certificate(tmp_path)
    env = {"NEWSMON_SMTP_USER": USER, "NEWSMON_SMTP_PASSWORD": PASSWORD}
    with smtp_server(starttls=server_context(cert, key), login=(USER, PASSWORD)) as server:
        channel = open_channel(f"smtp://127.0.0.1:{server.port}", env=env, base_dir=tmp_path,
                               write=print, email_to=DESK.email_to,
                               ssl_context=client_context(cert))
        outcome = run_digest(database, DESK, channel, "markdown", NOW)
    assert outcome.status == "sent", outcome.error
    [message] = server.handler.messages
    assert "### 青島" in parts(message)["text/plain"]  # format markdown: a Markdown text part


def test_a_wrong_password_fails_without_showing_it(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    cert, key = make_certificate(tmp_path)
    env = {"NEWSMON_SMTP_USER": USER, "NEWSMON_SMTP_PASSWORD": "wrong-" + PASSWORD}
    with smtp_server(starttls=server_context(cert, key), login=(USER, PASSWORD)) as server:
        channel = open_channel(f"smtp://127.0.0.1:{server.port}", env=env, base_dir=tmp_path,
                               write=print, email_to=DESK.email_to,
                               ssl_context=client_context(cert))
        outcome = run_digest(database, DESK, channel, "text", NOW)
    assert outcome.status == "failed" and "535" in (outcome.error or "")
    assert PASSWORD not in (outcome.error or "") and pending(database) == 4


def test_smtps_speaks_tls_from_the_first_byte(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    cert, key = make_certificate(tmp_path)
    with smtp_server(implicit_tls=server_context(cert, key)) as server:
        channel = open_channel(f"smtps://127.0.0.1:{server.port}", env={}, base_dir=tmp_path,
                               write=print, email_to=DESK.email_to,
                               ssl_context=client_context(cert))
        outcome = run_digest(database, DESK, channel, "text", NOW)
    assert outcome.status == "sent", outcome.error
    assert len(server.handler.messages) == 1


def test_an_untrusted_certificate_is_refused(database: Database, tmp_path: Path) -> None:
    seed_two_topics(database)
    cert, key = make_certificate(tmp_path)
    with smtp_server(implicit_tls=server_context(cert, key)) as server:
        channel = open_channel(f"smtps://127.0.0.1:{server.port}", env={}, base_dir=tmp_path,
                               write=print, email_to=DESK.email_to)  # system trust store
        outcome = run_digest(database, DESK, channel, "text", NOW)
    assert outcome.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in (outcome.error or "")
    assert server.handler.messages == [] and pending(database) == 4


def test_credentials_never_go_to_a_server_without_starttls(database: Database) -> None:
    seed_two_topics(database)
    env = {"NEWSMON_SMTP_USER": USER, "NEWSMON_SMTP_PASSWORD": PASSWORD}
    with smtp_server() as server:
        channel = open_channel(f"smtp://127.0.0.1:{server.port}", env=env, base_dir=Path("."),
                               write=print, email_to=DESK.email_to)
        outcome = run_digest(database, DESK, channel, "text", NOW)
    assert outcome.status == "failed"
    assert "refusing to send credentials in clear text" in (outcome.error or "")
    assert server.handler.messages == [] and pending(database) == 4


@pytest.mark.parametrize(("spec", "env", "message"), [
    ("smtp://user:pw@127.0.0.1:25", {}, "no credentials in the channel"),
    ("smtp://127.0.0.1:25", {"NEWSMON_SMTP_USER": "u"}, "set both"),
    ("smtp://:25", {}, "needs a host"),
    ("smtp://${MAIL_HOST}:25", {}, "environment variable MAIL_HOST is not set"),
])
def test_unusable_smtp_channels_are_named(spec: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ChannelError, match=message):
        open_channel(spec, env=env, base_dir=Path("."), write=print, email_to=("a@b.example",))


def test_smtp_needs_recipients() -> None:
    with pytest.raises(ChannelError, match="no recipients"):
        open_channel("smtp://127.0.0.1:25", env={}, base_dir=Path("."), write=print)
    channel = open_channel("smtp://127.0.0.1:25?to=a@x.example,b@y.example", env={},
                           base_dir=Path("."), write=print)
    assert channel.name == "smtp://127.0.0.1:25/…"


def test_the_digest_command_emails_a_subscription(sqlite_url: str, tmp_path: Path) -> None:
    """End to end through ``newsmon digest``: config, environment, STARTTLS, exit codes."""
    database = Database(sqlite_url)
    seed_two_topics(database)
    cert, key = make_certificate(tmp_path)
    env = {"NEWSMON_SMTP_USER": USER, "NEWSMON_SMTP_PASSWORD": PASSWORD,
           "SSL_CERT_FILE": str(cert)}  # trust the test certificate like a system CA
    config = tmp_path / "newsmon.toml"
    runner = CliRunner()

    def digest(*extra: str) -> Result:
        return runner.invoke(cli, ["--db", sqlite_url, "--config", str(config), "digest",
                                   *extra], env=env)

    with smtp_server(starttls=server_context(cert, key), login=(USER, PASSWORD)) as server:
        config.write_text(f'[[subscriptions]]\nname = "desk"\nchannel = '
                          f'"smtp://127.0.0.1:{server.port}"\nformat = "html"\n'
                          f'email_to = ["desk@example.org"]\n', encoding="utf-8")
        first = digest()
        assert first.exit_code == 0, first.output
        assert f"digest desk: sent 4 matches to smtp://127.0.0.1:{server.port}" in first.stderr
        assert digest().exit_code == 0  # nothing new: nothing sent
        assert len(server.handler.messages) == 1

    late = store_article(database, "dzwww", "http://dz.example/a/3.html", "青島馬拉松",
                         "青島馬拉松鳴槍開跑。", datetime(2024, 5, 2, 9, 0, tzinfo=UTC))
    store_match(database, "青島", late, "青島", "青島馬拉松鳴槍開跑。")
    with refused_port() as port:
        down = digest("--to", f"smtp://127.0.0.1:{port}")
    assert down.exit_code == 1
    assert "digest desk: FAILED: smtp://127.0.0.1:" in down.stderr
    assert "connection refused; 1 match stays pending" in down.stderr

    with smtp_server(starttls=server_context(cert, key), login=(USER, PASSWORD)) as server:
        retried = digest("--to", f"smtp://127.0.0.1:{server.port}")
    assert retried.exit_code == 0, retried.output
    [message] = server.handler.messages
    text = parts(message)["text/plain"]
    assert "青島馬拉松" in text and "青島港開通新航線" not in text  # only what was pending
    for result in (first, down, retried):
        assert PASSWORD not in result.output + result.stderr
    database.dispose()
