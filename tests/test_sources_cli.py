"""``newsmon sources add | list | check`` against the real sample sites.

``sources add`` must find what the sample sites' own config names — every list page
it is given, the feeds announced by ``<link rel="alternate">`` and the sitemaps
robots.txt names — and append the entry without touching the rest of the file.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmon.cli import cli
from newsmon.cli.commands_sources import source_entry, suggested_name, toml_string
from newsmon.config import load_config, parse_config
from newsmon.samplesites import SampleSites
from tests.conftest import Newsmon

EXISTING = """# my sources, hand-written
[settings]
timezone = "Asia/Shanghai"   # keep this comment

[[sources]]
name = "mine"
lists = ["https://www.example.cn/news/"]
"""


def test_add_finds_what_each_sample_site_offers_and_keeps_the_file(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(EXISTING, encoding="utf-8")
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    truth = parse_config(sites.config_toml(), tmp_path / "truth.toml")
    for source in truth.sources:
        result = newsmon("sources", "add", source.lists[0])
        assert f"added source {source.name!r}" in result.stderr
    text = config.read_text(encoding="utf-8")
    assert text.startswith(EXISTING)  # appended; nothing else changed
    added = {s.name: s for s in load_config(config).sources}
    assert set(added) == {"mine"} | {s.name for s in truth.sources}
    for source in truth.sources:
        got = added[source.name]
        assert (got.lists, got.feeds, got.sitemaps) == (source.lists, source.feeds,
                                                        source.sitemaps), source.name
        assert got.allowed_domains == ("127.0.0.1",)


def test_add_creates_the_config_and_refuses_a_taken_name(sites: SampleSites, tmp_path: Path,
                                                         sqlite_url: str) -> None:
    config = tmp_path / "new" / "sources.toml"
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    url = sites.url("/bandao/rss/news.xml")  # a feed as the URL
    newsmon("sources", "add", url, "--name", "bandao-feed", "--timezone", "Asia/Shanghai")
    [source] = load_config(config).sources
    assert source.name == "bandao-feed" and source.feeds == (url,) and source.lists == ()
    again = newsmon("sources", "add", url, "--name", "bandao-feed", check=False)
    assert again.returncode == 2
    assert f"{config}:" in again.stderr and "exists already" in again.stderr


def test_add_names_an_unreachable_url_and_writes_nothing(sites: SampleSites, tmp_path: Path,
                                                         sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    missing = sites.url("/nowhere/index.html")
    result = newsmon("sources", "add", missing, check=False)
    assert result.returncode == 1
    assert missing in result.stderr and "404" in result.stderr
    assert not config.exists()
    assert newsmon("sources", "add", "ftp://example.cn/", check=False).returncode == 2


def test_add_dry_run_prints_the_entry_only(sites: SampleSites, tmp_path: Path,
                                           sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    result = Newsmon(sqlite_url, config, home=tmp_path / "home")(
        "sources", "add", sites.url("/wenweipo/news/list.html"), "--dry-run")
    assert tomllib.loads(result.stdout)["sources"][0]["name"] == "wenweipo"
    assert not config.exists()


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "tab\there", "line\nbreak",
                                  "del\x7f", "青島 換道超越", "emoji 📰", ""])
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"value = {toml_string(text)}")["value"] == text


def test_source_entry_is_a_valid_source() -> None:
    entry = source_entry('odd "name"', lists=["http://x.cn/a?b=1&c=\"2\""], feeds=[],
                         sitemaps=["http://x.cn/s.xml"], timezone="Asia/Taipei",
                         allowed_domains=["x.cn"], comment="added by a test")
    [raw] = tomllib.loads(entry)["sources"]
    assert raw == {"name": 'odd "name"', "timezone": "Asia/Taipei",
                   "lists": ['http://x.cn/a?b=1&c="2"'], "sitemaps": ["http://x.cn/s.xml"],
                   "allowed_domains": ["x.cn"]}


@pytest.mark.parametrize(("url", "name"), [
    ("https://www.dzwww.com/xinwen/index.htm", "dzwww"),
    ("https://m.bandao.cn/news/", "bandao"),
    ("https://news.qingdaonews.com/roll.htm", "qingdaonews"),
    ("http://127.0.0.1:8080/wenweipo/news/list.html", "wenweipo"),
    ("http://localhost/list.html", "localhost"),
    ("https://www.dzwww.com/", "dzwww-2"),  # "dzwww" is taken
])
def test_suggested_names(url: str, name: str) -> None:
    assert suggested_name(url, {"dzwww"} if name == "dzwww-2" else set()) == name


def test_list_shows_the_configured_sources(newsmon: Newsmon) -> None:
    records = json.loads(newsmon("sources", "list", "--json").stdout)
    assert [r["name"] for r in records] == ["dzwww", "qingdaonews", "bandao", "wenweipo"]
    assert all(r["articles"] == 0 and r["last_run"] is None for r in records)
    newsmon("crawl", "--source", "wenweipo")
    records = {r["name"]: r for r in json.loads(newsmon("sources", "list", "--json").stdout)}
    assert records["wenweipo"]["articles"] == 6 and records["wenweipo"]["last_run"]
    table = newsmon("sources", "list").stdout
    assert "wenweipo" in table and "never" in table


def test_check_shows_links_and_one_extracted_article(newsmon: Newsmon,
                                                     sites: SampleSites) -> None:
    out = newsmon("sources", "check", "dzwww").stdout
    assert f"list {sites.url('/dzwww/xinwen/index.htm')}" in out
    assert "article links" in out
    assert "/dzwww/qingdao/202001/t20200113_4712345.htm" in out
    assert "title" in out and "source" in out and "published" in out
    assert "大衆網" in out  # the seed is the newest: extracted with its 來源


def test_check_fails_clearly_on_an_unknown_or_broken_source(sites: SampleSites, tmp_path: Path,
                                                            sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(sites.config_toml() + '\n[[sources]]\nname = "gone"\nlists = ["'
                      + sites.url("/gone/list.html") + '"]\n', encoding="utf-8")
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    result = newsmon("sources", "check", "gone", check=False)
    assert result.returncode == 1 and "HTTP 404" in result.stdout
    unknown = newsmon("sources", "check", "nosuch", check=False)
    assert unknown.returncode == 2 and "unknown source 'nosuch'" in unknown.stderr


def test_every_sources_command_has_an_example_in_its_help() -> None:
    runner = CliRunner()
    for args in (["sources"], ["sources", "add"], ["sources", "list"], ["sources", "check"],
                 ["status"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, args
