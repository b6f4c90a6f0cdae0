"""The sample news sites, tested over real HTTP on 127.0.0.1 (port 0).

Each test starts its own server (rendering all pages takes a few hundredths of a
second), so day switches and switches to a dishonest host cannot leak between tests.
"""

from __future__ import annotations

import gzip
import html
import http.client
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from newsmon.config import parse_config
from newsmon.samplesites import SampleArticle, SampleSites
from newsmon.samplesites.hostile import HostileSite

SEED_TITLE = "“活”城如謀戰局——看青島如何憑借頂層設計實現“換道超越”"
SEED_META_LINE = "2020-01-13 08:46 來源:大衆網 標簽:青島換道超越"
# The seed text (../shared/seed/dzwww-qingdao-2020-01-13.txt) as a crawler sees it once
# tags are stripped: its first and last lines, which the page must reproduce exactly.
SEED_FIRST_LINES = (
    '• <dir id="g1nl9c"></dir><ol id="g1nl9c"></ol>',
    '• <abbr id="g1nl9c"></abbr><tbody id="g1nl9c"></tbody><div id="g1nl9c"></div>'
    '<fieldset id="g1nl9c"></fieldset><kbd id="g1nl9c"></kbd>',
    '<kbd id="g1nl9c"></kbd><tbody id="g1nl9c"></tbody><form id="g1nl9c"></form>'
    '<thead id="g1nl9c"></thead>',
    '1. <b id="g1nl9c"></b><q id="g1nl9c"></q><u id="g1nl9c"></u>',
    '<ins id="g1nl9c"></ins><ins id="g1nl9c"></ins><tfoot id="g1nl9c"></tfoot>'
    '<style id="g1nl9c"></style><strong id="g1nl9c"></strong>',
    SEED_TITLE,
    SEED_META_LINE,
    "2019年,青島以一個“現象級”的存在,吸引著全省、全國乃至全球的關注——",
)
SEED_LAST_LINES = (
    "責編:劉亞會",
    "廣播頻率",
    "FM926 FM957",
    "論壇",
    "新區民生 新區鎮街 房産樓市 車友之家 求職招聘 美食美客 旅遊攝影 社會萬象 電子競技 "
    "征婚交友 愛心公益",
    "X-POWER-BY FNC V0.5.2 FROM ZZ56",
)
SEED_HEADINGS = ("戰略篇", "戰役篇", "戰術篇", "保障篇")


# --- helpers --------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def charset(self) -> str:
        match = re.search(r"charset=([\w-]+)", self.headers.get("content-type", ""))
        return match.group(1) if match else "utf-8"

    @property
    def text(self) -> str:
        return self.body.decode(self.charset)


def get(sites: SampleSites, path: str, headers: Mapping[str, str] | None = None,
        method: str = "GET", timeout: float = 10.0) -> Reply:
    """One request, no redirect following, the body read to the end."""
    port = urllib.parse.urlsplit(sites.base_url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        response = conn.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


def path_of(url: str) -> str:
    split = urllib.parse.urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("a", "link") and values.get("href"):
            self.hrefs.append(values["href"] or "")


def links(page_url: str, reply: Reply) -> list[str]:
    """Absolute same-page-resolved URLs linked from an HTML page or an XML feed/sitemap."""
    if "xml" in reply.headers.get("content-type", ""):
        text = reply.body.decode(reply.charset, errors="replace")
        return [html.unescape(u) for u in re.findall(r"<(?:loc|link)>([^<]+)</", text)]
    parser = _Links()
    parser.feed(reply.text)
    return [urllib.parse.urljoin(page_url, href) for href in parser.hrefs
            if not href.startswith(("javascript:", "#"))]


def page_text_lines(markup: str) -> list[str]:
    """The text a crawler sees once tags are stripped, one stripped line per line."""
    markup = re.sub(r"(?is)<(script|style)\b[^>]*>.*?</\1>", "", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    return [line.strip() for line in text.split("\n") if line.strip()]


def list_page_article_paths(sites: SampleSites, site: str) -> set[str]:
    """Follow a site's list pagination from its first page; collect its article links."""
    article_paths = {a.path for a in sites.articles(site, day=2)}
    start = sites.url(_list_path(sites, site))
    seen_pages: set[str] = set()
    queue = [start]
    found: set[str] = set()
    while queue:
        url = queue.pop()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        reply = get(sites, path_of(url))
        assert reply.status == 200, url
        for link in links(url, reply):
            path = urllib.parse.urlsplit(link).path
            if path in article_paths:
                found.add(path)
            elif _is_list_page(site, link):
                queue.append(link)
    return found


def _list_path(sites: SampleSites, site: str) -> str:
    config = parse_config(sites.config_toml(), Path("sites.toml"))
    return path_of(config.source(site).lists[0])


def _is_list_page(site: str, url: str) -> bool:
    path = path_of(url)
    return bool(re.fullmatch(
        {"dzwww": r"/dzwww/xinwen/index(_\d+)?\.htm",
         "qingdaonews": r"/qingdaonews/news/roll\.htm(\?page=\d+)?",
         "bandao": r"/bandao/news/index(_\d+)?\.html",
         "wenweipo": r"/wenweipo/news/list(_\d+)?\.html"}[site], path))


@pytest.fixture
def sites() -> Iterator[SampleSites]:
    with SampleSites(day=1) as running:
        yield running


# --- inventory ------------------------------------------------------------------------
def test_four_regional_sites_with_at_least_30_articles(sites: SampleSites) -> None:
    assert sites.site_names() == ["dzwww", "qingdaonews", "bandao", "wenweipo"]
    assert len(sites.articles(day=2)) >= 30
    assert len(sites.articles(day=1)) < len(sites.articles(day=2))


@pytest.mark.parametrize("site", ["dzwww", "qingdaonews", "bandao", "wenweipo"])
def test_day_two_adds_newer_articles_to_every_site(sites: SampleSites, site: str) -> None:
    day_one = sites.articles(site, day=1)
    new = [a for a in sites.articles(site, day=2) if a not in day_one]
    assert new, f"{site} has no day-two article"
    assert min(a.published for a in new) > max(a.published for a in day_one)


def test_every_article_page_is_served_on_its_days_only(sites: SampleSites) -> None:
    day_one_paths = {a.path for a in sites.articles(day=1)}
    for article in sites.articles(day=2):
        expected = 200 if article.path in day_one_paths else 404
        assert get(sites, article.path).status == expected, article.path
    sites.set_day(2)
    for article in sites.articles(day=2):
        assert get(sites, article.path).status == 200, article.path


def test_every_link_from_the_start_pages_leads_to_a_served_page(sites: SampleSites) -> None:
    """Crawl the whole host (day two) from / and the configured start URLs."""
    sites.set_day(2)
    config = parse_config(sites.config_toml(), Path("sites.toml"))
    queue = [sites.url("/"), sites.url("/robots.txt"),
             *(url for source in config.sources for url in source.start_urls)]
    seen: set[str] = set()
    failures = []
    while queue:
        url = urllib.parse.urldefrag(queue.pop())[0]
        split = urllib.parse.urlsplit(url)
        if url in seen or split.port != urllib.parse.urlsplit(sites.base_url).port:
            continue
        seen.add(url)
        if split.path.startswith(("/ads/", "/broken/")):
            continue  # redirects and failures on purpose; tested below
        reply = get(sites, path_of(url))
        if reply.status != 200:
            failures.append((url, reply.status))
            continue
        if url.endswith("/robots.txt"):
            queue += re.findall(r"^Sitemap: (\S+)", reply.text, re.MULTILINE)
        elif re.match(r"text/html|application/(rss\+)?xml", reply.headers["content-type"]):
            queue += links(url, reply)
    assert failures == []
    visited = {urllib.parse.urlsplit(u).path for u in seen}
    assert {a.path for a in sites.articles(day=2)} <= visited


# --- list pages -----------------------------------------------------------------------
@pytest.mark.parametrize("day", [1, 2])
@pytest.mark.parametrize("site", ["dzwww", "qingdaonews", "bandao", "wenweipo"])
def test_list_pages_link_to_all_their_articles(sites: SampleSites, site: str, day: int) -> None:
    sites.set_day(day)
    assert list_page_article_paths(sites, site) == {a.path for a in sites.articles(site)}


def test_list_pages_are_paginated(sites: SampleSites) -> None:
    page_two = {"dzwww": "/dzwww/xinwen/index_1.htm",
                "qingdaonews": "/qingdaonews/news/roll.htm?page=2",
                "wenweipo": "/wenweipo/news/list_2.html"}
    for site, path in page_two.items():
        first = get(sites, _list_path(sites, site))
        assert first.status == 200
        assert path.rsplit("/", 1)[-1] in first.text, f"{site} page 1 does not link page 2"
        assert get(sites, path).status == 200
    # bandao grows a second page on day two.
    assert "index_2.html" not in get(sites, "/bandao/news/index.html").text
    sites.set_day(2)
    first_page = get(sites, "/bandao/news/index.html").text
    assert 'rel="next" href="/bandao/news/index_2.html"' in first_page


@pytest.mark.parametrize("site", ["dzwww", "qingdaonews", "bandao", "wenweipo"])
def test_list_pages_carry_navigation_and_ad_links_besides_articles(sites: SampleSites,
                                                                   site: str) -> None:
    url = sites.url(_list_path(sites, site))
    reply = get(sites, path_of(url))
    found = links(url, reply)
    article_paths = {a.path for a in sites.articles(site)}
    others = [u for u in found if urllib.parse.urlsplit(u).path not in article_paths]
    assert len(others) >= 8
    assert any("/ads/c?" in u for u in others)


# --- encodings and scripts ------------------------------------------------------------
def test_gbk_site_sends_gbk_bytes_and_says_so(sites: SampleSites) -> None:
    for path in ("/qingdaonews/news/roll.htm", sites.articles("qingdaonews")[0].path):
        reply = get(sites, path)
        assert reply.headers["content-type"] == "text/html; charset=gbk"
        assert b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">' in reply.body
        with pytest.raises(UnicodeDecodeError):
            reply.body.decode("utf-8")
        assert "青岛新闻网" in reply.body.decode("gbk")
    feed = get(sites, "/qingdaonews/rss/roll.xml")
    assert feed.body.startswith(b'<?xml version="1.0" encoding="gbk"?>')
    parsed = feedparser.parse(feed.body)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == [a.title for a in sites.articles("qingdaonews")]


def test_big5_site_sends_big5_with_character_references_for_what_big5_lacks(
        sites: SampleSites) -> None:
    sites.set_day(2)
    republished = next(a for a in sites.articles("wenweipo") if a.republished_from)
    reply = get(sites, republished.path)
    assert reply.headers["content-type"] == "text/html; charset=big5"
    assert b'content="text/html; charset=big5"' in reply.body
    text = reply.body.decode("big5")  # strict: every byte is Big5
    assert "&#34886;" in text  # 衆 is not in Big5
    assert "大衆網" in html.unescape(text)


def test_traditional_sites_are_in_traditional_script(sites: SampleSites) -> None:
    dzwww = get(sites, sites.articles("dzwww")[1].path).text
    wenweipo = html.unescape(get(sites, sites.articles("wenweipo")[0].path).text)
    for text in (dzwww, wenweipo):
        assert "來源" in text
        assert "来源" not in text


# --- the seed article -----------------------------------------------------------------
def seed_article(sites: SampleSites) -> SampleArticle:
    return next(a for a in sites.articles("dzwww", day=1) if a.title == SEED_TITLE)


def test_seed_page_reproduces_the_seed_text(sites: SampleSites) -> None:
    article = seed_article(sites)
    assert article.day == 1
    assert article.path in get(sites, "/dzwww/xinwen/index.htm").text
    reply = get(sites, article.path)
    lines = page_text_lines(reply.text)
    start = lines.index(SEED_FIRST_LINES[0])
    assert tuple(lines[start:start + len(SEED_FIRST_LINES)]) == SEED_FIRST_LINES
    body = lines[start + 7: lines.index("責編:劉亞會")]
    assert body == [block.text for block in article.body]
    end = lines.index(SEED_LAST_LINES[0])
    assert tuple(lines[end:end + len(SEED_LAST_LINES)]) == SEED_LAST_LINES
    for heading in SEED_HEADINGS:
        assert heading in body
    # The empty elements are also live markup, and the metadata line is one element.
    assert '<dir id="g1nl9c"></dir><ol id="g1nl9c"></ol>' in reply.text
    assert re.search(r'<div class="info">2020-01-13 08:46 來源:大衆網 標簽:<a [^>]+>'
                     r"青島換道超越</a></div>", reply.text)


def test_other_dzwww_pages_leak_markup_with_ids_of_their_own(sites: SampleSites) -> None:
    others = [a for a in sites.articles("dzwww") if a.title != SEED_TITLE]
    ids = set()
    for article in others:
        text = html.unescape(get(sites, article.path).text)
        match = re.search(r'• <\w+ id="(\w{6})"></\w+>', text)
        assert match, article.path
        ids.add(match.group(1))
        assert "X-POWER-BY FNC V0.5.2 FROM ZZ56" in text
    assert "g1nl9c" not in ids
    assert len(ids) == len(others)


# --- day two: republication and a new 青島 match ---------------------------------------
def test_day_two_republishes_the_seed_story_on_another_site(sites: SampleSites) -> None:
    sites.set_day(2)
    original = seed_article(sites)
    copies = [a for a in sites.articles(day=2) if a.republished_from]
    assert len(copies) == 1
    copy = copies[0]
    assert copy.republished_from == original.key
    assert (copy.site, copy.day, copy.story) == ("wenweipo", 2, original.story)
    assert copy.body == original.body
    assert copy.title != original.title and copy.title in original.title
    page = page_text_lines(html.unescape(get(sites, copy.path).text))
    assert any("來源：大衆網" in line for line in page)
    assert [line for line in page if line in set(original.paragraphs)] == \
        list(original.paragraphs)
    assert not any("g1nl9c" in line or "X-POWER-BY" in line for line in page)


def test_qingdao_is_mentioned_on_day_one_and_on_day_two(sites: SampleSites) -> None:
    def mentions(article: SampleArticle) -> bool:
        return any(word in article.title + article.body_text for word in ("青岛", "青島"))

    assert mentions(seed_article(sites))
    day_one = set(sites.articles(day=1))
    assert any(mentions(a) for a in sites.articles(day=2) if a not in day_one)


# --- metadata variety -----------------------------------------------------------------
def test_pages_carry_varied_metadata(sites: SampleSites) -> None:
    sites.set_day(2)
    by_site = {site: [get(sites, a.path).body.decode(enc, errors="strict")
                      for a in sites.articles(site)]
               for site, enc in (("dzwww", "utf-8"), ("qingdaonews", "gbk"),
                                 ("bandao", "utf-8"), ("wenweipo", "big5"))}
    date_formats = {"dzwww": r"\d{4}-\d\d-\d\d \d\d:\d\d 來源:",
                    "qingdaonews": r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
                                   r"|\d{4}年\d\d月\d\d日\d\d:\d\d)　来源：",
                    "bandao": r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d",
                    "wenweipo": r"\d{4}/\d\d/\d\d \d\d:\d\d　來源："}
    for site, pattern in date_formats.items():
        assert all(re.search(pattern, page) for page in by_site[site]), site
    assert any("2020年01月11日11:21" in page for page in by_site["qingdaonews"])
    assert all('<meta name="keywords"' in page for page in by_site["qingdaonews"])
    assert all('rel="canonical"' in page for page in by_site["bandao"] + by_site["dzwww"])
    assert any(re.search(r'rel="canonical" href="[^"]+\?utm_source=', page)
               for page in by_site["bandao"])
    assert all("application/ld+json" in page for page in by_site["bandao"])
    assert all("責編:" in page for page in by_site["dzwww"])
    assert all("【责任编辑：" in page for page in by_site["qingdaonews"])
    assert all("責任編輯：" in page for page in by_site["wenweipo"])


def test_links_come_in_different_forms(sites: SampleSites) -> None:
    qingdao = get(sites, "/qingdaonews/news/roll.htm").text
    assert 'href="../content/2020-01/' in qingdao  # relative
    netloc = sites.base_url.removeprefix("http:")
    assert f'href="{netloc}/wenweipo/a/' in get(sites, "/wenweipo/news/list.html").text
    assert f'href="{sites.base_url}/bandao/a/' in get(sites, "/bandao/news/index.html").text
    assert "?spm=bandao.hot." in get(sites, "/bandao/news/index.html").text
    feed = feedparser.parse(get(sites, "/bandao/rss/news.xml").body)
    assert all("utm_source=rss" in entry.link for entry in feed.entries)


# --- feeds, sitemaps, robots ----------------------------------------------------------
def test_robots_txt_lists_sitemaps_and_private_paths(sites: SampleSites) -> None:
    robots = get(sites, "/robots.txt").text
    for path in ("/ads/", "/dzwww/member/", "/qingdaonews/search/", "/bandao/user/",
                 "/broken/private/"):
        assert f"Disallow: {path}\n" in robots
    sitemaps = re.findall(r"^Sitemap: (\S+)$", robots, re.MULTILINE)
    assert sitemaps == [sites.url("/dzwww/sitemap.xml"), sites.url("/bandao/sitemap.xml")]
    # A disallowed page is linked from the pages, so obeying robots.txt is observable.
    assert 'href="/dzwww/member/login.htm"' in get(sites, "/dzwww/xinwen/index.htm").text
    assert get(sites, "/dzwww/member/login.htm").status == 200


def test_sitemaps_list_every_article(sites: SampleSites) -> None:
    sites.set_day(2)
    index = get(sites, "/bandao/sitemap.xml").text
    assert "<sitemapindex" in index and sites.url("/bandao/sitemap_news.xml") in index
    news = get(sites, "/bandao/sitemap_news.xml").text
    assert 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' in news
    for site, sitemap in (("bandao", "/bandao/sitemap_news.xml"), ("dzwww", "/dzwww/sitemap.xml")):
        text = get(sites, sitemap).text
        locs = set(re.findall(r"<loc>([^<]+)</loc>", text))
        assert {sites.url(a.path) for a in sites.articles(site)} <= locs
    assert "<news:publication_date>2020-01-14T09:12:00+08:00</news:publication_date>" in news


def test_feeds_list_every_article_newest_first(sites: SampleSites) -> None:
    for site, path in (("qingdaonews", "/qingdaonews/rss/roll.xml"),
                       ("bandao", "/bandao/rss/news.xml")):
        feed = feedparser.parse(get(sites, path).body)
        assert not feed.bozo
        assert [urllib.parse.urlsplit(e.link).path for e in feed.entries] == \
            [a.path for a in sites.articles(site)]


def test_site_home_pages_announce_their_feeds(sites: SampleSites) -> None:
    for path, feed in (("/qingdaonews/", "/qingdaonews/rss/roll.xml"),
                       ("/bandao/", "/bandao/rss/news.xml")):
        assert re.search(rf'<link rel="alternate" type="application/rss\+xml"[^>]+'
                         rf'href="{re.escape(feed)}"', get(sites, path).text)


# --- conditional GET ------------------------------------------------------------------
START_PAGES = ("/dzwww/xinwen/index.htm", "/dzwww/sitemap.xml", "/qingdaonews/news/roll.htm",
               "/qingdaonews/rss/roll.xml", "/bandao/news/index.html", "/bandao/rss/news.xml",
               "/bandao/sitemap_news.xml", "/wenweipo/news/list.html")


@pytest.mark.parametrize("path", START_PAGES)
def test_start_pages_answer_conditional_gets_and_change_with_the_day(sites: SampleSites,
                                                                     path: str) -> None:
    first = get(sites, path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert get(sites, path, {"If-None-Match": etag}).status == 304
    assert get(sites, path, {"If-Modified-Since": modified}).status == 304
    assert get(sites, path, {"If-None-Match": '"something-else"'}).status == 200

    sites.set_day(2)
    second = get(sites, path, {"If-None-Match": etag})
    assert second.status == 200
    assert second.headers["etag"] != etag
    assert second.body != first.body
    assert get(sites, path, {"If-Modified-Since": modified}).status == 200
    assert get(sites, path, {"If-None-Match": second.headers["etag"]}).status == 304


def test_if_none_match_wins_over_if_modified_since(sites: SampleSites) -> None:
    first = get(sites, "/bandao/news/index.html")
    reply = get(sites, "/bandao/news/index.html",
                {"If-None-Match": '"stale"', "If-Modified-Since": first.headers["last-modified"]})
    assert reply.status == 200


def test_a_dishonest_site_answers_304_after_its_content_changed(sites: SampleSites) -> None:
    path = "/qingdaonews/news/roll.htm"
    etag = get(sites, path).headers["etag"]
    sites.set_dishonest("qingdaonews")
    sites.set_day(2)
    assert get(sites, path, {"If-None-Match": etag}).status == 304
    assert get(sites, "/bandao/news/index.html", {"If-None-Match": etag}).status == 200
    assert get(sites, path).status == 200  # an unconditional GET shows the change
    sites.set_dishonest("qingdaonews", False)
    assert get(sites, path, {"If-None-Match": etag}).status == 200
    with pytest.raises(ValueError, match="unknown sample site 'nosuch'"):
        sites.set_dishonest("nosuch")


def test_gzip_when_asked(sites: SampleSites) -> None:
    plain = get(sites, "/dzwww/xinwen/index.htm")
    packed = get(sites, "/dzwww/xinwen/index.htm", {"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    assert "content-encoding" not in plain.headers


def test_head_requests_send_headers_only(sites: SampleSites) -> None:
    reply = get(sites, "/bandao/news/index.html", method="HEAD")
    assert reply.status == 200 and reply.body == b""
    assert int(reply.headers["content-length"]) > 1000


# --- request log ----------------------------------------------------------------------
def test_request_log_records_and_clears(sites: SampleSites) -> None:
    sites.requests.clear()
    etag = get(sites, "/dzwww/xinwen/index.htm").headers["etag"]
    get(sites, "/dzwww/xinwen/index.htm", {"If-None-Match": etag, "User-Agent": "probe/1"})
    get(sites, "/qingdaonews/news/roll.htm?page=2")
    get(sites, "/no/such/page.html")
    entries = sites.requests.entries()
    assert [(e.method, e.path, e.site, e.status) for e in entries] == [
        ("GET", "/dzwww/xinwen/index.htm", "dzwww", 200),
        ("GET", "/dzwww/xinwen/index.htm", "dzwww", 304),
        ("GET", "/qingdaonews/news/roll.htm?page=2", "qingdaonews", 200),
        ("GET", "/no/such/page.html", "", 404),
    ]
    assert entries[1].headers["If-None-Match"] == etag
    assert entries[1].headers["User-Agent"] == "probe/1"
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    sites.requests.clear()
    assert sites.requests.entries() == []


def test_request_log_counts_concurrent_requests(sites: SampleSites) -> None:
    sites.requests.clear()
    paths = [a.path for a in sites.articles()] * 3
    threads = [threading.Thread(target=get, args=(sites, p)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = sites.requests.entries()
    assert len(entries) == len(paths)
    assert sorted(e.path for e in entries) == sorted(paths)
    assert {e.status for e in entries} == {200}


# --- the broken site ------------------------------------------------------------------
def test_broken_site_error_statuses(sites: SampleSites) -> None:
    assert get(sites, "/broken/gone.html").status == 404
    assert get(sites, "/broken/error.html").status == 500
    missing = get(sites, "/dzwww/no-such-page.htm")
    assert missing.status == 404 and "/dzwww/no-such-page.htm" in missing.text
    busy = [get(sites, "/broken/busy.html") for _ in range(3)]
    assert [r.status for r in busy] == [503, 200, 503]
    assert busy[0].headers["retry-after"] == "1"
    assert get(sites, "/broken/ok.html").status == 200


def test_redirects_and_redirect_loop(sites: SampleSites) -> None:
    moved = get(sites, "/broken/moved.html")
    assert (moved.status, moved.headers["location"]) == (301, sites.url("/broken/ok.html"))
    a = get(sites, "/broken/loop-a.html")
    b = get(sites, path_of(a.headers["location"]))
    assert (a.status, b.status) == (302, 302)
    assert path_of(b.headers["location"]) == "/broken/loop-a.html"
    bare = get(sites, "/qingdaonews")
    assert (bare.status, bare.headers["location"]) == (301, sites.url("/qingdaonews/"))


def test_slow_page_outlasts_a_short_timeout(sites: SampleSites) -> None:
    sites.requests.clear()
    with pytest.raises((TimeoutError, socket.timeout)):
        get(sites, "/broken/slow.html?delay=60", timeout=0.3)
    entry = sites.requests.entries()[0]
    assert entry.path == "/broken/slow.html?delay=60"
    assert entry.status is None  # still sleeping: counted before it answers
    assert get(sites, "/broken/slow.html?delay=0").status == 200
    bad = get(sites, "/broken/slow.html?delay=soon")
    assert bad.status == 400 and "delay=soon" in bad.text


def test_stop_does_not_wait_for_a_sleeping_slow_page() -> None:
    sites = SampleSites().start()
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            get(sites, "/broken/slow.html?delay=100", timeout=200)
        except (OSError, http.client.HTTPException) as exc:
            failures.append(exc)

    client = threading.Thread(target=ask)
    client.start()
    for _ in range(3000):  # until the server has the request (a liveness bound, not a timing)
        if sites.requests.entries():
            break
        threading.Event().wait(0.01)
    assert sites.requests.entries()
    sites.stop()
    client.join(timeout=30)
    assert not client.is_alive()
    assert failures  # the connection was dropped unanswered


def test_wrong_charset_page_is_gbk_declared_as_utf8(sites: SampleSites) -> None:
    reply = get(sites, "/broken/wrong-charset.html")
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert b'<meta charset="utf-8">' in reply.body
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    assert "谁来为无序拆房“埋单”？" in reply.body.decode("gbk")


def test_huge_page_is_20_megabytes(sites: SampleSites) -> None:
    reply = get(sites, "/broken/huge.html")
    assert int(reply.headers["content-length"]) == 20 * 1024 * 1024 == len(reply.body)
    assert reply.body.startswith(b"<!DOCTYPE html>")
    unsized = get(sites, "/broken/huge.html?mb=2&nolength=1")
    assert "content-length" not in unsized.headers
    assert len(unsized.body) == 2 * 1024 * 1024


def test_binary_and_malformed_feed(sites: SampleSites) -> None:
    pdf = get(sites, "/broken/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-")
    feed = feedparser.parse(get(sites, "/broken/feed.xml").body)
    assert feed.bozo
    index = get(sites, "/broken/index.html").text
    for case in ("ok.html", "moved.html", "gone.html", "error.html", "busy.html",
                 "slow.html?delay=", "loop-a.html", "wrong-charset.html", "huge.html",
                 "huge.html?nolength=1", "report.pdf", "private/secret.html"):
        assert f'href="{case}' in index, case


def test_ad_links_redirect_to_a_local_landing_page(sites: SampleSites) -> None:
    click = get(sites, "/ads/c?aid=101&site=dzwww")
    assert click.status == 302
    assert click.headers["location"] == sites.url("/ads/landing/101.html")
    assert get(sites, "/ads/c?aid=x").status == 400


# --- the hostile site --------------------------------------------------------------------
def get_url(url: str) -> Reply:
    """One request to an absolute http://127.0.0.1:PORT URL, no redirect following."""
    split = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", split.port, timeout=10)
    try:
        conn.request("GET", path_of(url))
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                     response.read())
    finally:
        conn.close()


def test_hostile_site_points_away_and_its_listeners_count(sites: SampleSites) -> None:
    victims = [sites.url(a.path) for a in sites.articles("bandao")[:3]]
    with HostileSite(victims) as hostile:
        canary_port = urllib.parse.urlsplit(hostile.canary_url).port
        redirect = get_url(hostile.url("/hostile/go/canary.html"))
        assert redirect.status == 302
        assert redirect.headers["location"].startswith(hostile.canary_url + "/")
        assert get_url(hostile.url("/hostile/go/ftp.html")).headers["location"].startswith(
            f"ftp://127.0.0.1:{hostile.ftp_port}/")
        index = get_url(hostile.url("/hostile/index.html"))
        assert len(index.headers["etag"]) > 300
        assert f'<link rel="next" href="http://127.0.0.1:{canary_port}/' in index.text
        for url in hostile.article_urls():
            assert get_url(url).status == 200, url
        terminal = get_url(hostile.url("/hostile/a/terminal.html"))
        assert "\x1b" in terminal.headers["content-type"]
        assert b"\x1b]52;" in terminal.body
        hijack = get_url(hostile.url("/hostile/a/hijack-canonical.html")).text
        assert f'<link rel="canonical" href="{victims[0]}">' in hijack
        assert hostile.canary_hits.counts() == (0, 0)
        assert get_url(hostile.canary_url + "/anything").status == 200
        assert hostile.canary_hits.counts() == (1, 1)
        with socket.create_connection(("127.0.0.1", hostile.ftp_port), timeout=5) as ftp:
            assert ftp.recv(100).startswith(b"220 ")
            ftp.sendall(b"USER anonymous\r\n")
            ftp.shutdown(socket.SHUT_WR)
            ftp.recv(100)  # the listener closes the connection after the first line
        assert hostile.ftp_hits.requests == ["USER anonymous"]
        config = parse_config(hostile.config_toml(), Path("hostile.toml"))
        [source] = config.sources
        assert source.name == "hostile" and len(source.lists) == 6


# --- API and config -------------------------------------------------------------------
def test_config_toml_is_a_valid_newsmon_config(sites: SampleSites) -> None:
    config = parse_config(sites.config_toml(), Path("sites.toml"))
    assert [s.name for s in config.sources] == sites.site_names()
    for source in config.sources:
        assert source.start_urls
        assert all(url.startswith(sites.base_url + f"/{source.name}/")
                   for url in source.start_urls)
        assert source.politeness.obey_robots is True
        for url in source.start_urls:
            assert get(sites, path_of(url)).status == 200
    assert config.source("qingdaonews").feeds and config.source("dzwww").sitemaps
    bandao = config.source("bandao")
    assert bandao.lists and bandao.feeds and bandao.sitemaps
    assert config.source("wenweipo").timezone == "Asia/Hong_Kong"
    assert "[settings]\n" in sites.config_toml()


def test_config_toml_can_include_the_broken_source(sites: SampleSites) -> None:
    config = parse_config(sites.config_toml(include_broken=True), Path("sites.toml"))
    broken = config.source("broken")
    assert broken.lists == (sites.url("/broken/index.html"),)
    assert broken.feeds == (sites.url("/broken/feed.xml"),)
    assert config.settings.download_timeout < 4  # the listed slow page sleeps 4 s


def test_lifecycle_errors_name_the_problem() -> None:
    sites = SampleSites()
    with pytest.raises(RuntimeError, match="not running"):
        _ = sites.base_url
    with pytest.raises(ValueError, match="day must be 1, 2 or 3, got 4"):
        sites.set_day(4)
    with pytest.raises(ValueError, match="day must be 1, 2 or 3, got 0"):
        SampleSites(day=0)
    with sites:
        with pytest.raises(RuntimeError, match="already running"):
            sites.start()
        assert sites.url("robots.txt") == sites.base_url + "/robots.txt"
    sites.stop()  # stopping twice is harmless


def test_command_line_serves_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon.samplesites", "--day", "2"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8")
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    try:
        banner = process.stderr.readline()
        base_url = re.search(r"(http://127\.0\.0\.1:\d+)/ \(day 2", banner)
        assert base_url, banner
        config_lines: list[str] = []
        while sum(line.startswith("download_delay") for line in config_lines) < 4:
            line = process.stdout.readline()
            assert line, "the config ended early: " + "".join(config_lines)
            config_lines.append(line)
        config = parse_config("".join(config_lines), tmp_path / "sites.toml")
        assert config.sources[0].lists[0].startswith(base_url.group(1))
        process.stdin.write("1\n")
        process.stdin.flush()
        assert process.stderr.readline().strip() == "now serving day 1"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_command_line_serves_the_hostile_site_too(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "newsmon.samplesites", "--include-hostile"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        encoding="utf-8")
    assert process.stdout is not None and process.stderr is not None
    try:
        banner = process.stderr.readline()
        assert re.match(r"hostile site: http://127\.0\.0\.1:\d+/hostile/ \(canary ", banner)
        config_lines: list[str] = []
        while sum(line.startswith("download_delay") for line in config_lines) < 5:
            line = process.stdout.readline()
            assert line, "the config ended early: " + "".join(config_lines)
            config_lines.append(line)
        config = parse_config("".join(config_lines), tmp_path / "sites.toml")
        hostile = config.source("hostile")
        assert get_url(hostile.lists[0]).status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
