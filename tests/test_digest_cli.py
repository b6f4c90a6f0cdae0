"""``newsmon digest`` on a real SQLite file: subscriptions, formats, channels, errors —
and the subscription settings it reads from the config file."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result

from newsmon.cli import cli
from newsmon.config import ConfigError, parse_config
from newsmon.storage.digests import recent_digests
from newsmon.storage.engine import Database
from newsmon.storage.matches import undelivered_matches
from tests.digest_support import HttpReceiver, seed_two_topics

SUBSCRIPTIONS = """\
[settings]
timezone = "Asia/Shanghai"

[[subscriptions]]
name = "desk"
channel = "file:out/desk-{date}.html"
format = "html"

[[subscriptions]]
name = "yantai"
topics = ["烟台", "威海"]
channel = "file:feeds/"
format = "atom"
"""


@pytest.fixture
def seeded(sqlite_url: str) -> str:
    database = Database(sqlite_url)
    seed_two_topics(database)
    database.dispose()
    return sqlite_url


def newsmon(db_url: str, *args: str, config: Path | None = None,
            env: dict[str, str] | None = None) -> Result:
    options = ["--db", db_url] + (["--config", str(config)] if config else [])
    return CliRunner().invoke(cli, [*options, *args], env=env or {})


def pending(db_url: str, subscription: str) -> int:
    database = Database(db_url)
    with database.session() as session:
        count = len(undelivered_matches(session, subscription))
    database.dispose()
    return count


def test_without_subscriptions_it_prints_text_and_marks_it_delivered(seeded: str) -> None:
    first = newsmon(seeded, "digest")
    assert first.exit_code == 0, first.output
    assert "== 青島 · 2 stories · 3 outlets ==" in first.stdout
    assert "[青島]" in first.stdout and first.stderr == ""
    assert pending(seeded, "default") == 0
    second = newsmon(seeded, "digest")
    assert "No new matches." in second.stdout  # the implicit subscription has a heartbeat


def test_dry_run_and_json_mark_nothing_until_asked(seeded: str) -> None:
    dry = newsmon(seeded, "digest", "--dry-run", "--json")
    data = json.loads(dry.stdout)
    assert data["new_matches"] == 4 and "nothing sent or marked" in dry.stderr
    assert pending(seeded, "default") == 4
    other = newsmon(seeded, "digest", "--subscription", "archive", "--format", "markdown")
    assert "### 青島" in other.stdout
    assert pending(seeded, "archive") == 0 and pending(seeded, "default") == 4


def test_each_configured_subscription_gets_its_own_digest(seeded: str, tmp_path: Path) -> None:
    config = tmp_path / "conf" / "newsmon.toml"
    config.parent.mkdir()
    config.write_text(SUBSCRIPTIONS, encoding="utf-8")
    result = newsmon(seeded, "digest", config=config)
    assert result.exit_code == 0, result.output
    assert "warning: subscription 'yantai' names topic '威海', which does not exist" in (
        result.stderr)
    [page] = (tmp_path / "conf" / "out").glob("desk-*.html")  # relative to the config file
    html = page.read_text(encoding="utf-8")
    assert 'data-topic="青島"' in html and 'data-topic="烟台"' in html
    feed = feedparser.parse((tmp_path / "conf" / "feeds" / "烟台.atom").read_text("utf-8"))
    assert feed.bozo == 0 and [e.title for e in feed.entries] == ["烟台苹果节开幕"]
    assert not (tmp_path / "conf" / "feeds" / "青島.atom").exists()  # not its topic
    # the status line names the file written, not the template
    assert f"digest desk: wrote 4 matches to {page} (html)" in result.stderr
    feed_file = tmp_path / "conf" / "feeds" / "烟台.atom"
    assert f"digest yantai: wrote 1 match to {feed_file} (atom)" in result.stderr
    assert pending(seeded, "desk") == 0
    assert pending(seeded, "yantai") == 3  # the 青島 matches are not for this subscription

    again = newsmon(seeded, "digest", "-s", "desk", config=config)
    assert "digest desk: nothing new; not sent (heartbeat off)" in again.stderr


def test_to_and_format_override_the_subscription(seeded: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text(SUBSCRIPTIONS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # --to paths are relative to where the user is
    result = newsmon(seeded, "digest", "-s", "desk", "--to", "file:here/digest.md",
                     "--format", "markdown", config=config)
    assert result.exit_code == 0, result.output
    assert "### 青島" in (tmp_path / "here" / "digest.md").read_text(encoding="utf-8")
    assert not (tmp_path / "out").exists()


def test_an_unknown_subscription_is_a_usage_error(seeded: str, tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text(SUBSCRIPTIONS, encoding="utf-8")
    result = newsmon(seeded, "digest", "-s", "nobody", config=config)
    assert result.exit_code == 2
    assert "unknown subscription 'nobody' (known: desk, yantai)" in result.stderr


def test_a_channel_that_cannot_be_opened_names_the_config_line(seeded: str,
                                                               tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[[subscriptions]]\nname = "chat"\nchannel = "wecombot://${WECOM_KEY}"\n'
                      'format = "markdown"\n', encoding="utf-8")
    result = newsmon(seeded, "digest", config=config)
    assert result.exit_code == 2
    assert (f"{config}:1: subscription 'chat': wecombot://…: environment variable WECOM_KEY "
            "is not set") in result.stderr
    assert pending(seeded, "chat") == 4

    preview = newsmon(seeded, "digest", "--dry-run", config=config)
    assert preview.exit_code == 0 and "### 青島" in preview.stdout  # a preview needs no channel
    assert pending(seeded, "chat") == 4


def test_a_failed_send_exits_1_and_keeps_the_matches(seeded: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be", encoding="utf-8")
    result = newsmon(seeded, "digest", "--to", f"file:{blocker}/digest.txt")
    assert result.exit_code == 1
    assert "digest default: FAILED: file:" in result.stderr
    assert "4 matches stay pending for the next digest" in result.stderr
    assert pending(seeded, "default") == 4


def test_the_help_shows_examples() -> None:
    result = CliRunner().invoke(cli, ["digest", "--help"])
    assert "Example:" in result.output and "--to smtp://" in result.output


@pytest.mark.parametrize(("entry", "message"), [
    ('silent_after = "soon"', "'silent_after': not a duration: 'soon'"),
    ("silent_after = 3", "'silent_after' must be a duration"),
])
def test_silent_after_is_validated(entry: str, message: str) -> None:
    text = f'[[subscriptions]]\nname = "s"\n{entry}\n'
    with pytest.raises(ConfigError, match=message) as error:
        parse_config(text, Path("n.toml"))
    assert str(error.value).startswith("n.toml:3: subscription 's'")


def test_silent_after_defaults_to_two_days_and_can_be_off() -> None:
    config = parse_config('[[subscriptions]]\nname = "a"\n\n[[subscriptions]]\nname = "b"\n'
                          'silent_after = "off"\n', Path("n.toml"))
    first, second = config.subscriptions
    assert first.silent_after is not None and first.silent_after.days == 2
    assert second.silent_after is None


def test_an_empty_digest_to_a_webhook_sends_nothing_and_is_recorded_empty(
        seeded: str) -> None:
    with HttpReceiver().running() as receiver:
        first = newsmon(seeded, "digest", "--to", f"webhook:{receiver.url}")
        assert first.exit_code == 0, first.output
        assert len(receiver.requests) == 1  # the pending matches do arrive
        second = newsmon(seeded, "digest", "--to", f"webhook:{receiver.url}")
        assert second.exit_code == 0, second.output
        assert len(receiver.requests) == 1  # nothing pending: nothing posted
    assert "digest default: nothing new; not sent (heartbeat off)" in second.stderr
    database = Database(seeded)
    with database.session() as session:
        runs = recent_digests(session, "default")
    database.dispose()
    assert [run.status for run in runs] == ["empty", "sent"]


def test_a_configured_heartbeat_sends_the_empty_digest_to_the_webhook(
        seeded: str, tmp_path: Path) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text('[[subscriptions]]\nname = "desk"\nheartbeat = true\n', encoding="utf-8")
    with HttpReceiver().running() as receiver:
        for _ in range(2):
            result = newsmon(seeded, "digest", "--to", f"webhook:{receiver.url}", config=config)
            assert result.exit_code == 0, result.output
    assert len(receiver.requests) == 2
    assert json.loads(receiver.requests[1].body)["topics"] == []  # the heartbeat
