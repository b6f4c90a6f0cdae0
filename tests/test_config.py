"""The config file: what is accepted, and that every problem names FILE:LINE."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newsmon.config import ConfigError, load_config, parse_config, parse_duration

GOOD = """\
[settings]
timezone = "Asia/Shanghai"
backfill_window = "2d"

[[sources]]
name = "dzwww"
lists = ["https://www.dzwww.com/xinwen/index.htm"]
feeds = ["https://www.dzwww.com/rss.xml"]
timezone = "Asia/Hong_Kong"
article_pattern = '/t\\d{8}_\\d+\\.htm$'
host_aliases = { "m.dzwww.com" = "www.dzwww.com" }

[sources.extract]
title = "css:h1"
noise = ["css:.share"]

[sources.politeness]
download_delay = 1
concurrency = 2

[[subscriptions]]
name = "desk"
topics = ["qingdao"]
channel = "smtp://127.0.0.1:2525"
format = "html"
schedule = "0 8 * * *"
quiet_hours = "22:00-07:00"
email_to = ["desk@example.org"]
"""


def test_a_full_config_is_read_into_typed_values() -> None:
    config = parse_config(GOOD, Path("sites.toml"))
    assert config.settings.backfill_window == timedelta(days=2)
    [source] = config.sources
    assert source.name == "dzwww" and source.timezone == "Asia/Hong_Kong"
    assert source.start_urls == ("https://www.dzwww.com/xinwen/index.htm",
                                 "https://www.dzwww.com/rss.xml")
    assert source.extract.title == "css:h1" and source.extract.noise == ("css:.share",)
    assert source.politeness.download_delay == 1.0 and source.line == 5
    [sub] = config.subscriptions
    assert (sub.name, sub.format, sub.email_to, sub.line) == ("desk", "html",
                                                              ("desk@example.org",), 21)
    assert config.subscription("desk") is sub


@pytest.mark.parametrize(("text", "line", "message"), [
    ("[settings\n", 1, "TOML syntax: unclosed table header: ']' is missing"),
    ('[settings]\ntimezone = "Mars/Olympus"\n', 2, "unknown time zone 'Mars/Olympus'"),
    ('[settings]\nbackfill_window = "soon"\n', 2, "not a duration: 'soon'"),
    ('[settings]\ncolour = "red"\n', 2, "unknown setting 'colour'"),
    ("[settings]\ndownload_delay = \"x\"\n", 2, "must be a number, got 'x'"),
    ('\n\n[[sources]]\nname = "a"\n', 3, "give at least one URL"),
    ('[[sources]]\nname = "a"\nlists = ["ftp://x"]\n', 3, "is not an http(s) URL"),
    ('[[sources]]\nname = "a b"\nlists = ["http://x"]\n', 2,
     "'name' must be letters, digits, '.', '_' or '-', got 'a b'"),
    ('[[sources]]\nname = "a"\nlists = ["http://x"]\n\n[[sources]]\nname = "a"\n'
     'lists = ["http://y"]\n', 5, "duplicate source name 'a'"),
    ('[[sources]]\nname = "a"\nlists = ["http://x"]\narticle_pattern = "("\n', 4,
     "not a regular expression"),
    ('[[sources]]\nname = "a"\nlists = ["http://x"]\nschedule = "daily"\n', 4,
     "'schedule': 'daily' has 1 fields; use 5"),
    ('[[subscriptions]]\nname = "s"\nformat = "pdf"\n', 3, "'format' must be one of"),
    ('[[subscriptions]]\nname = "s"\nchannel = "smtp://u:password@h"\n', 3,
     "credentials never go in the config file"),
    ('[[subscriptions]]\nname = "s"\nquiet_hours = "late"\n', 3, "quiet_hours"),
    ('surprise = 1\n', 1, "unknown top-level key 'surprise'"),
    # the key's own line, also in a sub-table, and what would have been accepted
    ('[[sources]]\nname = "a"\nlists = ["http://x"]\n[sources.politeness]\nconcurrency = 2\n'
     'delay = 1\n', 6, "source 'a': unknown key 'delay' (expected download_delay, "
     "concurrency, obey_robots)"),
    ('[settings]\nconcurrency_per_domain = true\n', 2,
     "setting 'concurrency_per_domain' must be a whole number, got True"),
    ('[settings]\nobey_robots = "yes"\n', 2, "must be true or false, got 'yes'"),
    ('[[sources]]\nlists = ["http://x"]\n', 1, "source: 'name' is required"),
    ('[sources]\nname = "a"\n', 1, "'sources' must be [[sources]] tables"),
    ('[[subscriptions]]\nname = "s"\nchannel = "webhook:https://u:hunter2@h/x"\n', 3,
     "credentials never go in the config file"),
    ('[[subscriptions]]\nname = "s"\n\nheartbeat = 1\n', 4,
     "subscription 's': 'heartbeat' must be true or false, got 1"),
])
def test_every_problem_names_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("conf/sites.toml"))
    assert str(caught.value).startswith(f"conf/sites.toml:{line}:"), str(caught.value)
    assert message in str(caught.value)


def test_values_are_parsed_and_words_that_look_like_secrets_load() -> None:
    text = GOOD.replace('["qingdao"]', '["password-leak"]') + (
        '\n[[subscriptions]]\nname = "relay"\nchannel = "smtp://desk:${SMTP_PASSWORD}@h:25"\n'
        'silent_after = "off"\n')
    config = parse_config(text, Path("sites.toml"))
    [source] = config.sources
    assert source.article_pattern is not None
    assert source.article_pattern.search("/t20240501_7.htm")
    desk, relay = config.subscriptions
    assert desk.topics == ("password-leak",) and desk.silent_after == timedelta(hours=48)
    assert relay.line == 30 and relay.silent_after is None and relay.timezone == "Asia/Shanghai"


def test_a_missing_or_non_utf8_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "gbk.toml"
    bad.write_bytes("[settings]\ntimezone = '青岛'\n".encode("gbk"))
    with pytest.raises(ConfigError, match=f"{bad}: not UTF-8"):
        load_config(bad)


@pytest.mark.parametrize(("text", "expected"), [
    ("90m", timedelta(minutes=90)), ("48h", timedelta(hours=48)), ("2d", timedelta(days=2)),
    ("1w", timedelta(weeks=1)), ("1.5h", timedelta(minutes=90)), ("off", None),
])
def test_durations(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


def test_a_bad_duration_says_what_would_do() -> None:
    with pytest.raises(ValueError, match=r"use e\.g\. 90m, 48h"):
        parse_duration("tomorrow")
