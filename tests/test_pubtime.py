"""Publish times chosen by evidence, canonical URLs that exist, and "new" that means new.

Recorded pages come from ``tests/data/corpus`` (copies of the shared corpus); the
synthetic pages are written here. The crawl tests run the real ``newsmon`` command
against a small site served on 127.0.0.1 (port 0) by this module.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from newsmon.crawler.canonical import article_canonical, canonicalize, registrable_domain
from newsmon.crawler.extract import extract_article
from newsmon.crawler.items import FetchedPage
from newsmon.crawler.normalise import normalize_article
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, Match
from newsmon.values import ExtractedArticle
from tests.conftest import Newsmon
from tests.local_http import LocalServer, page_or_404

PAGES = Path(__file__).resolve().parent / "data" / "corpus" / "pages"
HK = ZoneInfo("Asia/Hong_Kong")
# "Today" for the recorded pages: years after they were published.
FETCHED_AT = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
HKEJ_URL = "http://www2.hkej.com/instantnews/china/article/1878965/x"


def _recorded(page_id: str) -> bytes:
    return gzip.decompress((PAGES / (page_id + ".gz")).read_bytes())


def _extract(raw: bytes, url: str, fetched_at: datetime = FETCHED_AT,
             hints: dict[str, str] | None = None) -> ExtractedArticle:
    return extract_article(raw, url=url, fetched_at=fetched_at, timezone="Asia/Hong_Kong",
                           date_hints=hints)


# -- publish time by evidence -----------------------------------------------------------

@pytest.mark.parametrize(("page_id", "expected"), [
    ("ayltai__hknews-backend/articles/hkej.html", datetime(2018, 6, 29, 15, 23, tzinfo=HK)),
    ("ayltai__hknews/articles/hkej_realtime_details.html",
     datetime(2020, 8, 14, 9, 18, tzinfo=HK)),
])
def test_a_recorded_page_gets_its_own_date_not_the_fetch_day(page_id: str,
                                                             expected: datetime) -> None:
    # Both print "今日 HH:MM" by the headline and in sidebars; their own date is in
    # the page's script (ejValue['publishDateTime']).
    article = _extract(_recorded(page_id), HKEJ_URL)
    assert article.published_at == expected
    assert article.published_source == "script"


def _page(byline: str, sidebar: str = "", head: str = "", title: str = "港府公布新措施") -> bytes:
    body = "".join(f"<p>第{i}段：政府今日公布新一輪支援措施，涵蓋中小企、零售及旅遊業，"
                   f"預計惠及數十萬市民。官員表示，措施將於下月起分階段推行。</p>"
                   for i in range(1, 6))
    related = "".join(f"<li><a href='/n/{i}.html'>相關新聞標題第{i}則內容</a> ｜ {sidebar}</li>"
                      for i in range(1, 9)) if sidebar else ""
    return (f"<html><head><meta charset='utf-8'><title>{title} - 測試報</title>{head}</head>"
            f"<body><div class='main'><h1>{title}</h1><p class='info'>{byline}</p>"
            f"<div class='content'>{body}</div></div>"
            f"<div class='sidebar'><h3>熱門新聞</h3><ul>{related}</ul></div>"
            "</body></html>").encode()


def test_a_sidebar_today_time_never_wins_over_the_byline_date() -> None:
    article = _extract(_page("2023年5月4日 10:20", sidebar="今日 08:00"), "http://t.hk/a/1.html")
    assert article.published_at == datetime(2023, 5, 4, 10, 20, tzinfo=HK)
    assert article.published_source == "byline"


def test_a_sidebar_today_time_alone_is_not_a_publish_time() -> None:
    article = _extract(_page("記者 陳大文", sidebar="今日 08:00"), "http://t.hk/a/1.html")
    assert article.published_at is None and article.published_source is None


def test_a_relative_byline_time_resolves_in_the_sources_zone() -> None:
    # 07:30 UTC is 15:30 in Hong Kong: "今日 11:05" is that day, "昨天" the day before
    today = _extract(_page("今日 11:05"), "http://t.hk/a/1.html")
    assert today.published_at == datetime(2026, 12, 5, 11, 5, tzinfo=HK)
    assert today.published_source == "byline-relative"
    yesterday = _extract(_page("昨天 23:10"), "http://t.hk/a/1.html")
    assert yesterday.published_at == datetime(2026, 12, 4, 23, 10, tzinfo=HK)
    ago = _extract(_page("30分鐘前"), "http://t.hk/a/1.html")
    assert ago.published_at == datetime(2026, 12, 5, 15, 0, tzinfo=HK)


def test_a_time_later_than_the_fetch_is_never_the_publish_time() -> None:
    later_today = _page("2026年12月5日 18:00")  # 2.5 h after the fetch, local time
    article = _extract(later_today, "http://t.hk/2026-12/01/a.html")
    assert article.published_at == datetime(2026, 12, 1, tzinfo=HK)  # the URL's date
    assert article.published_source == "url"
    skewed = _extract(_page("2026年12月5日 15:35"), "http://t.hk/a/1.html")
    assert skewed.published_at == datetime(2026, 12, 5, 15, 35, tzinfo=HK)  # 5 min: skew
    future_meta = _page("", head="<meta property='article:published_time' "
                                  "content='2027-01-01T00:00:00+08:00'>")
    assert _extract(future_meta, "http://t.hk/a/1.html").published_at is None


def test_structured_data_beats_the_url_and_the_crawls_hints() -> None:
    ld = ('<script type="application/ld+json">{"@type": "NewsArticle", '
          '"datePublished": "2024-03-02T08:15:00+08:00"}</script>')
    hints = {"feed": "Sat, 02 Mar 2024 01:00:00 GMT", "http-last-modified":
             "Sun, 03 Mar 2024 00:00:00 GMT"}
    article = _extract(_page("", head=ld), "http://t.hk/2024-01/01/a.html", hints=hints)
    assert (article.published_at, article.published_source) == (
        datetime(2024, 3, 2, 8, 15, tzinfo=HK), "json-ld")


@pytest.mark.parametrize(("hints", "expected", "source"), [
    ({"feed": "Sat, 02 Mar 2024 01:00:00 GMT"}, datetime(2024, 3, 2, 9, 0, tzinfo=HK), "feed"),
    ({"sitemap": "2024-03-01T10:00:00+08:00", "http-last-modified":
      "Sun, 03 Mar 2024 00:00:00 GMT"}, datetime(2024, 3, 1, 10, 0, tzinfo=HK), "sitemap"),
    ({"http-last-modified": "Sun, 03 Mar 2024 00:00:00 GMT"},
     datetime(2024, 3, 3, 8, 0, tzinfo=HK), "http-last-modified"),
])
def test_an_undated_page_takes_the_crawls_best_date_evidence(
        hints: dict[str, str], expected: datetime, source: str) -> None:
    article = _extract(_page("記者 陳大文"), "http://t.hk/a/1.html", hints=hints)
    assert (article.published_at, article.published_source) == (expected, source)


def test_extract_json_shows_which_evidence_won(tmp_path: Path, sqlite_url: str) -> None:
    page = tmp_path / "hkej.html"
    page.write_bytes(_recorded("ayltai__hknews-backend/articles/hkej.html"))
    result = Newsmon(sqlite_url, home=tmp_path / "home")("extract", str(page), "--json")
    shown = json.loads(result.stdout)
    assert shown["published_at"].startswith("2018-06-29T15:23")
    assert shown["published_source"] == "script"


# -- canonical URLs that exist ----------------------------------------------------------

SINGTAO = "ayltai__hknews-backend/articles/singtao_realtime_details.html"
SINGTAO_PATH = ("/instant/articles/detail/821515-%E9%A6%99%E6%B8%AF-%E3%80%90%E5%A5%AA%E5%91"
                "%BD%E8%BB%8A%E7%A6%8D%E3%80%91")


def _stored_url(raw: bytes, fetched: str) -> str:
    article = extract_article(raw, url=fetched, fetched_at=FETCHED_AT, timezone="Asia/Hong_Kong")
    page = FetchedPage(source="s", url=fetched, body=raw, content_type=None,
                       fetched_at=FETCHED_AT, timezone="Asia/Hong_Kong")
    return normalize_article(article, page).article.canonical_url


def test_singtaos_scheme_less_og_url_is_not_joined_onto_the_path() -> None:
    raw = _recorded(SINGTAO)
    served = "http://127.0.0.1:8123/corpus/singtao_realtime_details.html"
    assert _stored_url(raw, served) == served  # another site's URL: the fetched one
    fetched = "https://std.stheadline.com/instant/articles/detail/821515"
    stored = _stored_url(raw, fetched)
    assert stored.startswith("https://std.stheadline.com/instant/articles/detail/821515-")
    assert "std.stheadline.com/std.stheadline.com" not in stored


def test_a_percent_encoded_og_url_is_decoded_then_checked() -> None:
    target = "https://t.hk/news/2024/0302/a.html"
    head = f"<meta property='og:url' content='{quote(target, safe='')}'>"
    assert _stored_url(_page("2024年3月2日 08:00", head=head), "https://t.hk/a?id=9") == target
    foreign = f"<meta property='og:url' content='{quote('https://other.hk/x', safe='')}'>"
    assert _stored_url(_page("2024年3月2日", head=foreign), "https://t.hk/a?id=9") \
        == "https://t.hk/a?id=9"


def test_a_canonical_relative_to_the_current_path_is_ignored() -> None:
    head = "<link rel='canonical' href='news/a.html'>"
    assert _stored_url(_page("2024年3月2日", head=head), "https://t.hk/x/y.html") \
        == "https://t.hk/x/y.html"


_HOSTS = st.sampled_from(["t.hk", "www.t.hk", "m.t.hk", "other.hk", "std.stheadline.com",
                          "127.0.0.1", "t.hk:8080"])
_PATHS = st.text(alphabet="abc/%.-_?=&#:3AF", max_size=24)
_DECLARED = st.one_of(
    st.builds(lambda s, h, p: f"{s}://{h}/{p}", st.sampled_from(["http", "https", "ftp",
                                                                "javascript"]), _HOSTS, _PATHS),
    st.builds(lambda h, p: f"{h}/{p}", _HOSTS, _PATHS),
    st.builds(lambda h, p: quote(f"https://{h}/{p}", safe=""), _HOSTS, _PATHS),
    st.builds(lambda p: "/" + p, _PATHS),
    _PATHS,
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(host=_HOSTS, path=_PATHS, declared=_DECLARED)
def test_every_stored_url_is_the_fetched_one_or_a_checked_canonical(
        host: str, path: str, declared: str) -> None:
    fetched = f"https://{host}/news/{path}"
    head = f"<link rel='canonical' href='{declared.replace(chr(39), '%27')}'>"
    raw = _page("2024年3月2日 08:00", head=head)
    try:
        fetched_key = canonicalize(fetched)
    except ValueError:
        return  # not a URL the crawler could have fetched
    stored = _stored_url(raw, fetched)
    if stored == fetched_key:
        return
    parts = urlsplit(stored)
    assert parts.scheme in ("http", "https") and parts.hostname
    assert registrable_domain(stored) == registrable_domain(fetched_key)
    # it was checked by article_canonical, which is idempotent on its own answer
    assert article_canonical(fetched, stored) == stored


# -- "new" that means new: real crawls of a small local site -----------------------------

TOPIC_A = "監管"
TOPIC_B = "颱風"


class _Forum:
    """A site with a feed naming an old dated article and an undated forum thread whose
    URL and replies change on every crawl (the thread gains a reply per crawl)."""

    def __init__(self) -> None:
        self.crawl = 0
        self.server = LocalServer(self._answer)
        self.base = self.server.base

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        page_or_404(handler, self.page(path), "application/rss+xml" if path.endswith(".xml")
                    else "text/html; charset=utf-8")

    def page(self, path: str) -> bytes | None:
        if path == "/feed.xml":
            items = (f"<item><title>銀保監向險企發監管函</title><link>{self.base}/old.html</link>"
                     "</item>"
                     f"<item><title>通告</title><link>{self.base}/notice.html</link>"
                     "<pubDate>Mon, 04 Mar 2019 02:00:00 GMT</pubDate></item>"
                     f"<item><title>討論區：監管新規</title>"
                     f"<link>{self.base}/thread.html?crawl={self.crawl}</link></item>")
            return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                    f"<title>論壇</title><link>{self.base}/</link>{items}</channel></rss>"
                    ).encode()
        if path == "/old.html":
            return _page("2018年06月29日 15:23", sidebar="今日 08:00",
                         title=f"銀保監向險企發{TOPIC_A}函")
        if path == "/notice.html":  # undated on the page; the feed dates it
            return (f"<html><head><meta charset='utf-8'><title>{TOPIC_A}通告</title></head>"
                    f"<body><h1>{TOPIC_A}通告</h1><div><p>本會就{TOPIC_A}安排作出以下通告："
                    "所有會員須於月底前提交年度報告，逾期者將被暫停會籍。</p><p>如有查詢，"
                    "請於辦公時間致電秘書處，或以電郵聯絡本會職員，謝謝合作。</p>"
                    "<p>本會另將於下月舉行會員大會，討論新規對各行業的影響，並選出新一屆"
                    "理事會成員，歡迎各位會員踴躍出席，共同商討未來發展方向。</p></div>"
                    "</body></html>").encode()
        if path == "/thread.html":
            warning = f"今晚{TOPIC_B}來襲，大家小心。"  # topic b from the second reply on
            replies = "".join(
                f"<p>第{n}樓回覆：{warning if n >= 2 else '同意樓主。'}"
                f"這個{TOPIC_A}問題值得再討論，請大家發表意見，謝謝各位。</p>"
                for n in range(1, self.crawl + 1))
            return (f"<html><head><meta charset='utf-8'><title>討論區：{TOPIC_A}新規</title>"
                    f"<link rel='canonical' href='{self.base}/thread.html'></head><body>"
                    f"<h1>討論區：{TOPIC_A}新規</h1><div class='post'><p>樓主：關於新的{TOPIC_A}"
                    "規定，各位有甚麼看法？規定下月生效，涉及多個行業，影響不少。</p>"
                    f"{replies}</div></body></html>").encode()
        return None

    def __enter__(self) -> _Forum:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__()


@pytest.fixture
def forum() -> Iterator[_Forum]:
    with _Forum() as running:
        yield running


def _config(forum: _Forum, path: Path) -> Path:
    path.write_text(
        "[settings]\ntimezone = \"Asia/Hong_Kong\"\n\n[[sources]]\nname = \"forum\"\n"
        f"timezone = \"Asia/Hong_Kong\"\nfeeds = [\"{forum.base}/feed.xml\"]\n"
        "allowed_domains = [\"127.0.0.1\"]\n\n[sources.politeness]\nobey_robots = false\n"
        "download_delay = 0.0\n", encoding="utf-8")  # the default 48 h backfill window
    return path


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_old_pages_are_not_flagged_and_an_undated_one_is_flagged_once_in_three_crawls(
        forum: _Forum, tmp_path: Path, db: str, request: pytest.FixtureRequest) -> None:
    db_url = str(request.getfixturevalue("sqlite_url" if db == "sqlite" else "pg_url"))
    newsmon = Newsmon(db_url, _config(forum, tmp_path / "forum.toml"), home=tmp_path / "home")
    newsmon("topics", "add", "a", TOPIC_A)
    newsmon("topics", "add", "b", TOPIC_B)
    digests = []
    for crawl in (1, 2, 3):
        forum.crawl = crawl
        newsmon("crawl")
        digests.append(newsmon("digest").stdout)
    database = Database(db_url)
    with database.session() as session:
        articles = {a.canonical_url.rsplit("/", 1)[1]: a for a in session.scalars(select(Article))}
        flags = [(m.article_id, m.is_new) for m in session.scalars(select(Match))]
    database.dispose()
    old, thread, notice = articles["old.html"], articles["thread.html"], articles["notice.html"]
    assert set(articles) == {"old.html", "thread.html", "notice.html"}  # thread: one URL
    assert old.published_at is not None
    assert old.published_at.replace(tzinfo=UTC) == datetime(2018, 6, 29, 7, 23, tzinfo=UTC)
    assert old.published_source == "byline"
    assert thread.published_at is None and thread.changed_at is not None  # it did change
    assert notice.published_source == "feed" and notice.published_at is not None
    assert notice.published_at.replace(tzinfo=UTC) == datetime(2019, 3, 4, 2, 0, tzinfo=UTC)
    # topic a matched both articles from the first crawl on, topic b the thread from the
    # second: only the thread's first-crawl match is flagged
    assert sorted(flags) == sorted([(old.id, False), (notice.id, False), (thread.id, True),
                                    (thread.id, False)])
    assert "討論區" in digests[0] and "time unknown (first seen " in digests[0]
    assert "銀保監" not in "".join(digests) and "通告" not in "".join(digests)
    assert all("No new matches" in d for d in digests[1:]), digests
    assert json.loads(newsmon("show", str(old.id), "--json").stdout)["published_source"] \
        == "byline"
    assert "(from feed) · first seen" in newsmon("show", str(notice.id)).stdout

