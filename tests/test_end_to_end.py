"""The whole path on the real sample sites: crawl -> store -> match -> digest -> search.

Every test runs the real ``newsmon`` command (real Scrapy crawls over HTTP on
127.0.0.1) against a real SQLite file, or the local PostgreSQL server where it says.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.fts import settle_search_index
from newsmon.storage.models import Article
from tests.conftest import Newsmon, with_settings
from tests.local_http import refused_port

SEED_TITLE = "“活”城如謀戰局——看青島如何憑借頂層設計實現“換道超越”"
SEED_LEAKS = ["g1nl9c", "廣播頻率", "FM926", "新區鎮街", "X-POWER-BY", "<div", "責編", "新區民生"]


def stored_articles(db_url: str) -> list[Article]:
    database = Database(db_url)
    with database.session() as session:
        rows = list(session.scalars(select(Article).order_by(Article.id)))
    database.dispose()
    return rows


def summary_numbers(stdout: str) -> dict[str, int]:
    match = re.search(r"(\d+) pages, (\d+) new articles, (\d+) errors", stdout)
    assert match, stdout
    pages, new, errors = map(int, match.groups())
    return {"pages": pages, "new": new, "errors": errors}


def test_crawl_stores_clean_articles_and_a_second_crawl_adds_nothing(newsmon: Newsmon) -> None:
    first = summary_numbers(newsmon("crawl").stdout)
    articles = stored_articles(newsmon.db_url)
    assert first["errors"] == 0
    assert first["new"] == len(articles) >= 25
    for article in articles:
        assert article.title and article.body, article.canonical_url
        assert article.published_at is not None and article.published_at.tzinfo is not None
        assert "<" not in article.body and "</" not in article.title, article.canonical_url

    second = summary_numbers(newsmon("crawl").stdout)
    assert second["new"] == 0
    assert len(stored_articles(newsmon.db_url)) == len(articles)


def test_the_seed_article_is_stored_clean_with_its_fields(newsmon: Newsmon) -> None:
    newsmon("crawl", "--source", "dzwww")
    [seed] = [a for a in stored_articles(newsmon.db_url) if "換道超越" in a.title]
    assert seed.title == SEED_TITLE
    assert seed.published_at == datetime(2020, 1, 13, 0, 46, tzinfo=UTC)  # 08:46 in Shanghai
    assert seed.source == "大衆網"
    assert seed.editor == "劉亞會"
    assert "青島換道超越" in seed.tags
    assert seed.script == "traditional"
    assert seed.body.startswith("2019年,青島以一個“現象級”的存在")
    assert seed.body.rstrip().endswith("真正搞活這座城。")
    for leak in SEED_LEAKS:
        assert leak not in seed.body, leak
    assert "戰略篇" in seed.body  # section headings inside the body are kept


def test_topic_matches_either_script_and_the_digest_delivers_once(newsmon: Newsmon) -> None:
    newsmon("crawl")
    added = newsmon("topics", "add", "青岛", "青岛").stdout  # Simplified topic
    assert "match" in added
    digest = newsmon("digest", "--json").stdout
    titles = [a["title"] for t in json.loads(digest)["topics"] for a in t["articles"]]
    assert SEED_TITLE in titles  # written 青島 in Traditional, found by 青岛
    assert newsmon("digest", "--json").stdout.count('"title"') == 0  # delivered once

    simplified = json.loads(newsmon("search", "青岛", "--json", "--limit", "1000").stdout)
    traditional = json.loads(newsmon("search", "青島", "--json", "--limit", "1000").stdout)
    assert simplified and {a["id"] for a in simplified} == {a["id"] for a in traditional}
    assert {"id", "url", "title", "source", "published_at"} <= set(simplified[0])
    for literal in ['"g1nl9c"', '"廣播頻率"', '"X-POWER-BY"', '"<div"']:
        assert json.loads(newsmon("search", literal, "--json").stdout) == [], literal


@pytest.mark.postgres
def test_a_crawl_into_postgresql_is_searchable_with_no_index_entries_left_pending(
        sites: SampleSites, tmp_path: Path, pg_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"'),
                      encoding="utf-8")
    newsmon = Newsmon(pg_url, config, home=tmp_path / "home")
    assert summary_numbers(newsmon("crawl").stdout)["new"] == len(stored_articles(pg_url)) >= 25
    found = json.loads(newsmon("search", "換道超越", "--json").stdout)
    assert [a["title"] for a in found] == [SEED_TITLE]
    database = Database(pg_url)
    with database.session() as session, session.begin():
        # the crawl (through its match step) folded its entries into the GIN index
        assert settle_search_index(session) == 0
    database.dispose()


def test_demo_lists_the_seed_on_day_one_and_only_new_articles_on_day_two(
        tmp_path: Path, sqlite_url: str) -> None:
    demo = Newsmon(sqlite_url, home=tmp_path / "home")
    out = demo("demo", timeout=600).stdout
    day_one, day_two = out.split("Day two: crawl", 1)
    day_one_digest = day_one.split("Day one: digest", 1)[1]
    day_two_digest = day_two.split("Day two: digest", 1)[1]
    assert "換道超越" in day_one_digest and "== 青島" in day_one_digest
    day_one_urls = set(re.findall(r"http://\S+", day_one_digest))
    day_two_urls = set(re.findall(r"http://\S+", day_two_digest))
    assert day_two_urls, "day two adds articles about 青島"
    assert not day_one_urls & day_two_urls
    # The day-two copy of the seed story names the outlet sent on day one, without
    # sending it again.
    assert "1 story · 2 outlets" in day_two_digest
    assert "dzwww · 来源 大衆網 · 2020-01-13 08:46 CST · in an earlier digest" in day_two_digest


def test_the_demo_keeps_its_articles_out_of_the_default_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data_dir = home / "data" / "newsmon"
    user = Newsmon("", home=home)  # no --db: the per-user default database
    # A fresh machine: the data directory does not exist before the first demo.
    assert not data_dir.exists()
    out = user("demo", timeout=600).stdout
    user("topics", "add", "青島", "青島")  # the user's own topic, same words as the demo's
    demo_url = f"sqlite:///{data_dir / 'demo.db'}"
    assert f"database: {demo_url} (the demo's own; your default database is untouched)" in out
    assert f"Try: newsmon --db {demo_url} search 青岛" in out
    assert "換道超越" in out  # the demo did crawl and match

    digest = user("digest")
    assert digest.stdout.startswith("newsmon digest · default · ")
    assert digest.stdout.splitlines()[1:] == ["No new matches."]
    assert stored_articles(f"sqlite:///{data_dir / 'newsmon.db'}") == []
    assert len(stored_articles(demo_url)) >= 25


def test_an_unreachable_source_is_named_and_the_rest_is_crawled(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    with refused_port() as dead_port:
        dead_url = f"http://127.0.0.1:{dead_port}/news/list.html"
        config = tmp_path / "sites.toml"
        gone = f'\n[[sources]]\nname = "gone"\nlists = ["{dead_url}"]\n'
        config.write_text(sites.config_toml() + gone, encoding="utf-8")
        result = Newsmon(sqlite_url, config, home=tmp_path / "home")("crawl", check=False)
    assert result.returncode == 1
    assert dead_url in result.stderr
    [line] = [line for line in result.stderr.splitlines() if dead_url in line]
    assert "gone" in line and "connection refused" in line
    assert summary_numbers(result.stdout)["new"] >= 25


def test_a_malformed_config_names_the_file_and_line(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[settings]\ntimezone = "Asia/Shanghai"\n\n[[sources]]\nname = "x"\n'
                      'lists = ["not a url"]\n', encoding="utf-8")
    result = Newsmon(sqlite_url, config, home=tmp_path / "home")("crawl", check=False)
    assert result.returncode == 2
    assert f"{config}:6:" in result.stderr and "not an http(s) URL" in result.stderr

    config.write_text("[settings\n", encoding="utf-8")
    result = Newsmon(sqlite_url, config, home=tmp_path / "home")("crawl", check=False)
    assert result.returncode == 2 and f"{config}:1:" in result.stderr


def test_with_the_default_backfill_window_old_articles_are_stored_but_not_flagged(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(sites.config_toml(), encoding="utf-8")  # default window: 48h
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    newsmon("crawl", "--source", "dzwww")
    added = newsmon("topics", "add", "青島", "青島").stdout
    assert re.search(r": [1-9]\d* of \d+ stored articles match, 0 flagged", added), added
    assert "No new matches" in newsmon("digest").stdout
    assert json.loads(newsmon("search", "換道超越", "--json").stdout)  # stored, searchable
