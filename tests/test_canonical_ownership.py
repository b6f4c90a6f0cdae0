"""Canonical ownership: a page of one source never rewrites another source's article.

Two sources, each on its own real HTTP server (two ports on 127.0.0.1), crawled by
the real ``newsmon crawl``. Source b's page names source a's article as its
``rel=canonical``: a's row stays as it was and b stores its own article (the story
links the two). A source's declared canonical on an origin it does not crawl is not
believed. The rule function is checked on its own too.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from newsmon.crawler.canonical import canonicalize
from newsmon.crawler.gate import Origins
from newsmon.crawler.ownership import believed_canonical
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, Match, Source
from tests.conftest import Newsmon
from tests.local_http import LocalServer, page_or_404

TOPIC = "颱風"
PARAGRAPH = ("天文台今日發出{topic}警告，預計風暴將於今晚最接近本港，市民應留在室內，"
             "並遠離海旁及低窪地區。政府各部門已啟動應變機制，隨時候命。")


def _article(title: str, extra: str = "", canonical: str = "") -> bytes:
    body = "".join(f"<p>第{i}段：{PARAGRAPH.format(topic=TOPIC)}</p>" for i in range(1, 6))
    head = f"<link rel='canonical' href='{canonical}'>" if canonical else ""
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
            f"<body><div class='main'><h1>{title}</h1>"
            "<p class='info'>2024年3月2日 08:00</p>"
            f"<div class='content'>{body}{extra}</div></div></body></html>").encode()


class _Site:
    """One news site: a feed of ``articles`` (path -> page bytes) on its own port."""

    def __init__(self) -> None:
        self.articles: dict[str, bytes] = {}
        self.server = LocalServer(self._answer)
        self.base = self.server.base

    def _feed(self) -> bytes:
        items = "".join(f"<item><title>t</title><link>{self.base}{path}</link></item>"
                        for path in self.articles)
        return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>site</title><link>{self.base}/</link>{items}</channel></rss>"
                ).encode()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path == "/feed.xml":
            page_or_404(handler, self._feed(), "application/rss+xml")
            return
        key = f"{parts.path}?{parts.query}" if parts.query else parts.path
        page_or_404(handler, self.articles.get(key))

    def __enter__(self) -> _Site:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__()


@pytest.fixture
def two_sites() -> Iterator[tuple[_Site, _Site]]:
    with _Site() as a, _Site() as b:
        yield a, b


def _source(name: str, site: _Site, allowed: list[str]) -> str:
    domains = ", ".join(f'"{d}"' for d in allowed)
    return (f'[[sources]]\nname = "{name}"\nfeeds = ["{site.base}/feed.xml"]\n'
            f"allowed_domains = [{domains}]\n\n[sources.politeness]\nobey_robots = false\n"
            "download_delay = 0.0\n\n")


def _newsmon(a: _Site, b: _Site, tmp_path: Path, db_url: str, *, b_crawls_a: bool) -> Newsmon:
    """Sources a and b; with ``b_crawls_a`` b's config also allows a's origin, so only
    the ownership rule (not the origin rule) stands between b's page and a's article."""
    a_origin = urlsplit(a.base).netloc
    b_allowed = ["127.0.0.1", a_origin] if b_crawls_a else ["127.0.0.1"]
    config = tmp_path / "two.toml"
    config.write_text('[settings]\nbackfill_window = "off"\n\n'
                      + _source("a", a, ["127.0.0.1"]) + _source("b", b, b_allowed),
                      encoding="utf-8")
    return Newsmon(db_url, config, home=tmp_path / "home")


def _rows(db_url: str) -> dict[str, dict[str, Any]]:
    """Every article by canonical URL: its fields, source, story and match flags."""
    database = Database(db_url)
    with database.session() as session:
        rows = session.execute(
            select(Article, Source.name).join(Source, Source.id == Article.source_id)).all()
        flags = {(m.article_id, m.is_new, m.matched_at)
                 for m in session.scalars(select(Match))}
        found = {art.canonical_url: {
            "id": art.id, "title": art.title, "body": art.body, "source": name,
            "content_hash": art.content_hash, "matched_at": art.matched_at,
            "changed_at": art.changed_at, "story": art.story_id,
            "matches": sorted((f[1], f[2]) for f in flags if f[0] == art.id)}
            for art, name in rows}
    database.dispose()
    return found


def _outcomes(db_url: str, source: str) -> dict[str, int]:
    database = Database(db_url)
    with database.session() as session:
        run = session.scalars(select(CrawlRun).join(Source).where(Source.name == source)
                              .order_by(CrawlRun.id.desc())).first()
    database.dispose()
    assert run is not None and run.outcomes is not None
    return dict(run.outcomes)


def _hijack_pages(a: _Site, b: _Site) -> tuple[str, str]:
    """a's article (reached at ``?rev=1``, canonical without it) and b's page naming it."""
    story = canonicalize(f"{a.base}/news/story.html")
    a.articles["/news/story.html?rev=1"] = _article("颱風襲港 原文標題", canonical=story)
    b.articles["/copy.html"] = _article(
        "冒名標題", extra="<p>轉載自他報，另附本報記者現場補充報道，交通大致正常。</p>",
        canonical=story)
    return story, canonicalize(f"{b.base}/copy.html")


@pytest.mark.parametrize("b_crawls_a", [False, True], ids=["other-origin", "shared-origin"])
def test_another_sources_page_naming_an_article_as_canonical_never_rewrites_it(
        two_sites: tuple[_Site, _Site], tmp_path: Path, db_url: str, b_crawls_a: bool) -> None:
    a, b = two_sites
    newsmon = _newsmon(a, b, tmp_path, db_url, b_crawls_a=b_crawls_a)
    newsmon("topics", "add", "storm", TOPIC)
    story, copy = _hijack_pages(a, b)
    newsmon("crawl", "--source", "a")
    before = _rows(db_url)[story]
    assert before["source"] == "a" and before["matches"] and before["matched_at"] is not None

    crawl_b = newsmon("crawl", "-vv", "--source", "b")  # -vv: Scrapy's stats on stderr
    rows = _rows(db_url)
    assert rows[story] == before  # title, body, source, match flags: all as they were
    assert rows[copy]["source"] == "b" and rows[copy]["title"] == "冒名標題"
    assert rows[copy]["story"] == before["story"]  # the story links the two articles
    assert set(rows) == {story, copy}
    assert _outcomes(db_url, "b") == {"new": 1}
    # one line naming both URLs; which rule refused it depends on b's origins
    why = "another source's article" if b_crawls_a else "on an origin the source does not"
    refusals = [line for line in crawl_b.stderr.splitlines() if "canonical_foreign: " in line]
    assert len(refusals) == 1, crawl_b.stderr
    assert f"{b.base}/copy.html" in refusals[0] and story in refusals[0]
    assert why in refusals[0]
    stat = "source" if b_crawls_a else "origin"
    assert f"'newsmon/canonical_foreign/{stat}': 1" in crawl_b.stderr

    # a re-crawled with an edited page (a new address, the same canonical) still updates
    del a.articles["/news/story.html?rev=1"]
    a.articles["/news/story.html?rev=2"] = _article("颱風襲港 更新標題", canonical=story)
    newsmon("crawl", "--source", "a")
    after = _rows(db_url)[story]
    assert after["id"] == before["id"] and after["source"] == "a"
    assert after["title"] == "颱風襲港 更新標題" and after["changed_at"] is not None
    assert _outcomes(db_url, "a") == {"updated": 1}


def test_a_canonical_on_an_origin_the_source_does_not_crawl_is_not_believed(
        two_sites: tuple[_Site, _Site], tmp_path: Path, db_url: str) -> None:
    a, b = two_sites
    newsmon = _newsmon(a, b, tmp_path, db_url, b_crawls_a=False)
    elsewhere = canonicalize(f"{b.base}/elsewhere.html")
    a.articles["/news/own.html"] = _article("颱風本報報道", canonical=elsewhere)
    crawl = newsmon("crawl", "-vv", "--source", "a")
    own = canonicalize(f"{a.base}/news/own.html")
    assert set(_rows(db_url)) == {own}
    assert _rows(db_url)[own]["source"] == "a"
    assert "'newsmon/canonical_foreign/origin': 1" in crawl.stderr


# -- the rule on its own ---------------------------------------------------------------

_PORTS = st.sampled_from([80, 443, 8080, 8081])
_HOSTS = st.sampled_from(["news.example.com", "www.example.com", "example.org", "127.0.0.1",
                          "localhost"])


def _url(host: str, port: int, path: str) -> str:
    return canonicalize(f"http://{host}:{port}/{path}")


@given(start_host=_HOSTS, start_port=_PORTS, host=_HOSTS, port=_PORTS,
       path=st.from_regex(r"[a-z0-9/]{0,12}", fullmatch=True))
def test_a_canonical_is_believed_exactly_when_the_gate_would_fetch_it(
        start_host: str, start_port: int, host: str, port: int, path: str) -> None:
    origins = Origins.of([f"http://{start_host}:{start_port}/"])
    fetched = _url(start_host, start_port, "page.html")
    claimed = _url(host, port, path)
    believed = believed_canonical(fetched, claimed, origins)
    assert believed in (fetched, claimed)
    same_origin = (host, port) == (start_host, start_port)
    if same_origin:
        assert believed == claimed
    if host != start_host:
        assert believed == fetched  # another host is never believed
    assert believed_canonical(fetched, believed, origins) == believed  # idempotent


def test_the_rule_on_named_cases() -> None:
    origins = Origins.of(["https://www.example.com/news/"], ["example.com", "127.0.0.1:8081"])
    fetched = "https://www.example.com/a.html"
    assert believed_canonical(fetched, "https://m.example.com/a.html", origins) \
        == "https://m.example.com/a.html"  # a subdomain of a configured domain
    assert believed_canonical(fetched, "http://127.0.0.1:8081/a.html", origins) \
        == "http://127.0.0.1:8081/a.html"  # an allowed host:port
    assert believed_canonical(fetched, "http://127.0.0.1:8082/a.html", origins) == fetched
    assert believed_canonical(fetched, "https://www.example.com:8443/a", origins) == fetched
    assert believed_canonical(fetched, "https://example.net/a.html", origins) == fetched
