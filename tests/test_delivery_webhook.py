"""Webhook and Apprise delivery against a real HTTP receiver on 127.0.0.1.

Retries are seen from the receiver's side (the same digest, the same idempotency key,
again); a sender killed between the receiver's acceptance and the ledger write
repeats the digest next time rather than losing it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.app.digests import run_digest
from newsmon.config import SubscriptionConfig
from newsmon.delivery import ChannelError, open_channel, redact
from newsmon.delivery.webhook import WebhookChannel
from newsmon.storage.digests import recent_digests
from newsmon.storage.engine import Database
from newsmon.storage.matches import undelivered_matches
from tests.digest_support import HttpReceiver, Received, seed_two_topics

NOW = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)
DESK = SubscriptionConfig(name="desk")


def pending(database: Database) -> int:
    with database.session() as session:
        return len(undelivered_matches(session, "desk"))


def fast_webhook(url: str, attempts: int = 4) -> WebhookChannel:
    """The real channel with millisecond backoff, so retries do not slow the tests."""
    return WebhookChannel(f"webhook:{url}", url, attempts=attempts, backoff=0.01)


def test_the_receiver_gets_the_digest_as_json(database: Database) -> None:
    seed_two_topics(database)
    with HttpReceiver().running() as receiver:
        channel = open_channel(f"webhook:{receiver.url}", env={}, base_dir=Path("."),
                               write=print)
        outcome = run_digest(database, DESK, channel, "markdown", NOW)
    assert outcome.status == "sent" and outcome.digest is not None
    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["Idempotency-Key"] == outcome.digest.key
    data = json.loads(request.body)
    assert [t["topic"] for t in data["topics"]] == ["烟台", "青島"]
    assert data["topics"][1]["stories"][0]["outlets"] == ["dzwww", "bandao"]
    assert data["text"].startswith("**newsmon · desk**")  # the subscription's format
    assert pending(database) == 0


def test_a_receiver_that_fails_twice_then_succeeds_gets_it_on_the_third_try(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    seed_two_topics(database)
    with HttpReceiver(statuses=[503, 429]).running() as receiver:
        channel = fast_webhook(receiver.url)
        with caplog.at_level(logging.WARNING, logger="newsmon.delivery.webhook"):
            outcome = run_digest(database, DESK, channel, "json", NOW)
    assert outcome.status == "sent" and channel.tries == 3
    assert len(receiver.requests) == 3
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    retries = [r.getMessage() for r in caplog.records]
    assert "attempt 1 of 4 failed (HTTP 503 Service Unavailable)" in retries[0]
    assert "attempt 2 of 4 failed (HTTP 429 Too Many Requests); retrying in 0 s" in retries[1]
    assert pending(database) == 0


def test_a_retry_after_http_date_is_honoured(database: Database,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """A date that has passed means "now": no wait, not our own backoff (0.01 s)."""
    seed_two_topics(database)
    receiver = HttpReceiver(statuses=[429], retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    with receiver.running():
        channel = fast_webhook(receiver.url)
        with caplog.at_level(logging.WARNING, logger="newsmon.delivery.webhook"):
            outcome = run_digest(database, DESK, channel, "json", NOW)
    assert outcome.status == "sent" and channel.tries == 2
    [retry] = [r.getMessage() for r in caplog.records]
    assert retry.endswith("failed (HTTP 429 Too Many Requests); retrying in 0 s")


def test_a_receiver_that_keeps_failing_leaves_the_matches_pending(database: Database) -> None:
    seed_two_topics(database)
    with HttpReceiver(statuses=[500, 502, 503]).running() as receiver:
        failed = run_digest(database, DESK, fast_webhook(receiver.url, attempts=3), "json",
                            NOW)
        assert failed.status == "failed"
        assert failed.error == (f"webhook:{receiver.url}: gave up after 3 attempts: "
                                "HTTP 503 Service Unavailable")
        assert pending(database) == 4
        sent = run_digest(database, DESK, fast_webhook(receiver.url), "json",
                          NOW + timedelta(minutes=5))
    assert sent.status == "sent" and sent.matches == 4 and len(receiver.requests) == 4


@pytest.mark.parametrize(("status", "reason"), [(400, "HTTP 400 Bad Request"),
                                                (302, "HTTP 302 Found (redirected to ?")])
def test_statuses_that_retrying_cannot_fix_fail_at_once(database: Database, status: int,
                                                        reason: str) -> None:
    seed_two_topics(database)
    with HttpReceiver(statuses=[status]).running() as receiver:
        outcome = run_digest(database, DESK, fast_webhook(receiver.url), "json", NOW)
    assert outcome.status == "failed" and reason in (outcome.error or "")
    assert len(receiver.requests) == 1 and pending(database) == 4


def test_an_apprise_url_delivers_markdown_to_the_service(database: Database) -> None:
    seed_two_topics(database)
    with HttpReceiver().running() as receiver:
        # Apprise's generic JSON service stands in for WeCom/DingTalk/Feishu, which
        # cannot be reached from a test; the token-like path comes from the environment.
        spec = f"json://127.0.0.1:{receiver.port}/${{HOOK_TOKEN}}"
        channel = open_channel(spec, env={"HOOK_TOKEN": "t0ken42"}, base_dir=Path("."),
                               write=print)
        assert channel.name == "json://…"
        outcome = run_digest(database, DESK, channel, "markdown", NOW)
    assert outcome.status == "sent", outcome.error
    [request] = receiver.requests
    assert request.path == "/t0ken42"
    data = json.loads(request.body)
    assert data["title"] == "newsmon · desk: 3 new stories · 烟台、青島"
    assert "### 青島" in data["message"] and "**青島**" in data["message"]


def test_an_apprise_service_that_fails_leaves_the_matches_pending(database: Database) -> None:
    seed_two_topics(database)
    with HttpReceiver(statuses=[500]).running() as receiver:
        channel = open_channel(f"json://127.0.0.1:{receiver.port}/${{HOOK_TOKEN}}",
                               env={"HOOK_TOKEN": "t0ken42"}, base_dir=Path("."), write=print)
        outcome = run_digest(database, DESK, channel, "markdown", NOW)
    assert outcome.status == "failed" and outcome.error
    assert outcome.error.startswith("json://…: ") and "t0ken42" not in outcome.error
    assert pending(database) == 4


@pytest.mark.parametrize(("spec", "message"), [
    ("nonsense", "not a channel"),
    ("gopher://example.org/x", "not a channel newsmon or Apprise understands"),
    ("webhook:ftp://example.org/x", "a webhook needs an http(s) URL"),
    ("wecombot://${WECOM_KEY}", "environment variable WECOM_KEY is not set"),
    ("file:out/{nope}.txt", "unknown placeholder {nope}"),
])
def test_unusable_channels_are_refused_with_a_reason(spec: str, message: str) -> None:
    with pytest.raises(ChannelError, match=re.escape(message)):
        open_channel(spec, env={}, base_dir=Path("."), write=print)


@pytest.mark.parametrize(("spec", "shown"), [
    ("stdout", "stdout"),
    ("file:/var/digests/{date}.html", "file:/var/digests/{date}.html"),
    ("smtp://mail.example.org:587", "smtp://mail.example.org:587"),
    ("smtp://user@mail.example.org:587?to=a@b", "smtp://mail.example.org:587/…"),
    ("webhook:https://hooks.example.org/T0K3N?key=x", "webhook:https://hooks.example.org/…"),
    ("webhook:https://hooks.example.org", "webhook:https://hooks.example.org"),
    ("wecombot://SECRETKEY", "wecombot://…"),
    ("tgram://123:abc/456", "tgram://…"),
])
def test_channels_are_shown_without_their_secrets(spec: str, shown: str) -> None:
    assert redact(spec) == shown


def test_a_sender_killed_after_the_receiver_accepted_repeats_never_loses(
        sqlite_url: str, tmp_path: Path) -> None:
    database = Database(sqlite_url)
    seed_two_topics(database)
    sender: dict[str, subprocess.Popen[str]] = {}

    def kill_the_sender(_request: Received) -> None:
        if len(receiver.requests) == 1:  # accepted: the sender dies before marking
            os.kill(sender["first"].pid, signal.SIGKILL)

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    with HttpReceiver(on_request=kill_the_sender).running() as receiver:
        command = [sys.executable, "-m", "newsmon", "--db", sqlite_url, "digest",
                   "--to", f"webhook:{receiver.url}"]
        sender["first"] = subprocess.Popen(command, env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sender["first"].communicate(timeout=120)
        assert sender["first"].returncode == -signal.SIGKILL
        assert pending_in(database) == 4  # the receiver has them, the ledger does not

        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert third.returncode == 0, third.stderr
    # The third run has nothing pending: an empty digest is not posted (an ad-hoc
    # --to has no heartbeat), so the receiver saw the same digest exactly twice.
    first_body, second_body = (json.loads(r.body) for r in receiver.requests)
    assert first_body["key"] == second_body["key"]  # the same digest, sent again
    assert first_body["new_matches"] == second_body["new_matches"] == 4
    assert pending_in(database) == 0
    with database.session() as session:
        runs = [r.status for r in reversed(recent_digests(session, "default"))]
    assert runs == ["failed", "sent", "empty"]  # the dead run, the repeat, nothing to send
    database.dispose()


def pending_in(database: Database) -> int:
    with database.session() as session:
        return len(undelivered_matches(session, "default"))
