"""Incremental re-crawls of the real sample sites: the URL ledger, pagination that
stops at known pages, conditional GETs checked before they are trusted, stories
across outlets, and the run ledger.

Every crawl is the real ``newsmon crawl`` in a child process, over HTTP on
127.0.0.1, into a SQLite file; the sample server's request log says exactly what
was asked for.
"""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select, update

from newsmon.config import parse_config
from newsmon.samplesites import (
    LoggedRequest,
    SampleSites,
    site_bandao,
    site_dzwww,
    site_qingdaonews,
    site_wenweipo,
)
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, Source, Story, UrlRecord
from newsmon.textnorm import normalize
from tests.conftest import Newsmon, with_settings

LIST_PAGES = {module.SPEC.name: module.list_page_path
              for module in (site_dzwww, site_qingdaonews, site_bandao, site_wenweipo)}
SEED = "dzwww/t20200113_4712345"
REPUBLISHED = "wenweipo/AP5e1d3c88"


def _requests(sites: SampleSites) -> list[LoggedRequest]:
    return sites.requests.entries()


def _path(request: LoggedRequest) -> str:
    return request.path


def _start_paths(sites: SampleSites) -> set[str]:
    config = parse_config(sites.config_toml(), Path("sites.toml"))
    return {_full_path(url) for source in config.sources for url in source.start_urls}


def _full_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _pagination_paths() -> set[str]:
    return {list_page(n) for list_page in LIST_PAGES.values() for n in range(2, 10)}


def _db(newsmon: Newsmon) -> Database:
    return Database(newsmon.db_url)


def _forget_validators(newsmon: Newsmon) -> None:
    """Drop every start page's ETag and Last-Modified: the next crawl reads lists in full."""
    database = _db(newsmon)
    with database.session() as session, session.begin():
        session.execute(update(UrlRecord).values(etag=None, last_modified=None))
    database.dispose()


def test_a_day_two_crawl_requests_only_start_pages_and_the_new_articles(
        newsmon: Newsmon, sites: SampleSites) -> None:
    newsmon("crawl")
    day_one = {a.path for a in sites.articles(day=1)}
    new = {a.path for a in sites.articles(day=2)} - day_one
    sites.set_day(2)
    sites.requests.clear()
    newsmon("crawl")

    asked = Counter(_path(r) for r in _requests(sites))
    start, pages = _start_paths(sites), _pagination_paths()
    unexpected = {p for p in asked if p not in start | pages | new | {"/robots.txt"}
                  and not p.endswith(".xml")}  # sitemap-index children are start pages too
    assert unexpected == set(), "only start pages and new articles may be requested"
    assert {p for p in asked if p in new} == new
    assert all(asked[p] == 1 for p in new), {p: asked[p] for p in new}
    assert not set(asked) & day_one, "a stored article was requested again"
    assert all(asked[p] == 1 for p in start), "start pages answered 200: fetched once each"


def test_pagination_stops_at_the_first_page_whose_links_are_all_known(
        newsmon: Newsmon, sites: SampleSites) -> None:
    newsmon("crawl", "--source", "dzwww")
    assert any(_path(r) == site_dzwww.list_page_path(2) for r in _requests(sites))
    # Forget the list validators: the list is read in full again, and every link on
    # its first page is known, so page two is not requested.
    _forget_validators(newsmon)
    sites.requests.clear()
    newsmon("crawl", "--source", "dzwww")
    asked = [_path(r) for r in _requests(sites)]
    assert site_dzwww.list_page_path(1) in asked
    assert site_dzwww.list_page_path(2) not in asked
    assert not [p for p in asked if p.endswith(".htm") and "/20200" in p], "no article again"


def test_pagination_walks_on_past_known_links_to_a_page_no_finished_crawl_read(
        newsmon: Newsmon, sites: SampleSites) -> None:
    # A first crawl that never reached page two (here: limited to one page; a crawl
    # killed halfway is the same) stores page one's articles.
    assert newsmon.config is not None
    full = newsmon.config.read_text(encoding="utf-8")
    newsmon.config.write_text(full.replace("max_list_pages = 5", "max_list_pages = 1", 1),
                              encoding="utf-8")
    newsmon("crawl", "--source", "dzwww")
    page_two = site_dzwww.list_page_path(2)
    assert page_two not in [_path(r) for r in _requests(sites)]

    # Page one now holds only known links, yet page two was never read: it is read now.
    newsmon.config.write_text(full, encoding="utf-8")
    _forget_validators(newsmon)
    sites.requests.clear()
    newsmon("crawl", "--source", "dzwww")
    assert page_two in [_path(r) for r in _requests(sites)]

    # Once a finished crawl has read it, the known first page is where the list stops.
    _forget_validators(newsmon)
    sites.requests.clear()
    newsmon("crawl", "--source", "dzwww")
    assert page_two not in [_path(r) for r in _requests(sites)]


def test_an_article_that_failed_is_fetched_again_where_no_page_read_links_to_it(
        newsmon: Newsmon, sites: SampleSites) -> None:
    """The URL ledger retries a failed article by itself: the list page that linked to
    it may not be read next time (here the crawl stops at page one, and the sitemap that
    also lists it is no longer in the config)."""
    first_on_page_two = sites.articles(site="dzwww")[site_dzwww.PAGE_SIZE].path
    page_two = site_dzwww.list_page_path(2)
    with urllib.request.urlopen(sites.url(page_two)) as response:
        assert first_on_page_two in response.read().decode("utf-8")
    sites.set_failing(first_on_page_two)
    assert newsmon("crawl", "--source", "dzwww", check=False).returncode == 1  # an error
    assert first_on_page_two not in _stored_paths(newsmon)

    sites.set_failing(first_on_page_two, False)
    assert newsmon.config is not None
    full = newsmon.config.read_text(encoding="utf-8")
    sitemap = re.compile(r'^sitemaps = \["[^"]*/dzwww/sitemap\.xml"\]\n', re.MULTILINE)
    assert sitemap.search(full)
    newsmon.config.write_text(sitemap.sub("", full).replace(
        "max_list_pages = 5", "max_list_pages = 1", 1), encoding="utf-8")
    sites.requests.clear()
    newsmon("crawl", "--source", "dzwww")
    asked = [_path(r) for r in _requests(sites)]
    assert page_two not in asked and "/dzwww/sitemap.xml" not in asked
    assert asked.count(first_on_page_two) == 1
    assert first_on_page_two in _stored_paths(newsmon)


def _stored_paths(newsmon: Newsmon) -> set[str]:
    database = _db(newsmon)
    with database.session() as session:
        paths = {urlsplit(url).path for url in session.scalars(select(Article.url))}
    database.dispose()
    return paths


def test_the_republished_story_joins_the_seed_and_different_stories_stay_apart(
        newsmon: Newsmon, sites: SampleSites) -> None:
    newsmon("crawl")
    sites.set_day(2)
    newsmon("crawl")
    paths = {a.key: a.path for a in sites.articles(day=2)}
    database = _db(newsmon)
    with database.session() as session:
        by_path = {urlsplit(a.canonical_url).path: a for a in session.scalars(select(Article))}
        seed, copy = by_path[paths[SEED]], by_path[paths[REPUBLISHED]]
        assert seed.story_id is not None and seed.story_id == copy.story_id
        story = session.get(Story, seed.story_id)
        assert story is not None
        assert story.origin is not None and normalize(story.origin) == normalize("大衆網")
        assert story.first_seen == seed.first_seen  # the first copy newsmon saw
        outlets = session.execute(select(Source.name).join(Article).where(
            Article.story_id == story.id)).scalars().all()
        assert sorted(outlets) == ["dzwww", "wenweipo"]
        # Every other article is a story of its own.
        others = [a for a in by_path.values() if a.id not in (seed.id, copy.id)]
        assert len({a.story_id for a in others}) == len(others)
        assert seed.story_id not in {a.story_id for a in others}
    database.dispose()


def test_a_dishonest_304_is_caught_by_the_sampled_full_fetch(newsmon: Newsmon,
                                                              sites: SampleSites) -> None:
    newsmon("crawl", "--source", "dzwww")
    sites.set_day(2)
    sites.set_dishonest("dzwww")  # 304 to every conditional request, changed or not
    sites.requests.clear()
    newsmon("crawl", "--source", "dzwww")
    listing = [r.status for r in _requests(sites) if _path(r) == site_dzwww.list_page_path(1)]
    assert listing == [304, 200], "the 304 of an unproven site is checked by a full fetch"
    new = {a.path for a in sites.articles("dzwww", day=2)} - {
        a.path for a in sites.articles("dzwww", day=1)}
    assert new <= {_path(r) for r in _requests(sites)}, "the new article was still found"
    sites.requests.clear()
    newsmon("crawl", "--source", "dzwww")  # distrusted now: no conditional requests at all
    assert all("If-None-Match" not in r.headers and "If-Modified-Since" not in r.headers
               for r in _requests(sites))


def test_honest_304s_are_trusted_once_a_sampled_full_fetch_confirmed_one(
        newsmon: Newsmon, sites: SampleSites) -> None:
    newsmon("crawl", "--source", "wenweipo")
    sites.requests.clear()
    newsmon("crawl", "--source", "wenweipo")  # unproven: 304, then a full fetch to check
    first = [r.status for r in _requests(sites) if _path(r) == site_wenweipo.list_page_path(1)]
    assert first == [304, 200]
    sites.requests.clear()
    result = newsmon("crawl", "--source", "wenweipo")  # honest now: the 304 is believed
    asked = [(r.status, _path(r)) for r in _requests(sites) if _path(r) != "/robots.txt"]
    assert asked == [(304, site_wenweipo.list_page_path(1))]
    assert "0 new articles" in result.stdout


def test_the_run_ledger_counts_known_links_and_not_modified_pages(newsmon: Newsmon,
                                                                   sites: SampleSites) -> None:
    newsmon("crawl", "--source", "bandao")
    sites.set_day(2)
    newsmon("crawl", "--source", "bandao")
    database = _db(newsmon)
    with database.session() as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
    database.dispose()
    first, second = runs
    assert first.status == second.status == "finished"
    assert first.new_articles == len(sites.articles("bandao", day=1))
    assert second.new_articles == len(sites.articles("bandao", day=2)) - first.new_articles
    assert second.skipped_known >= first.new_articles  # list, feed and sitemap all name them
    assert second.finished_at is not None and second.finished_at >= second.started_at
    assert second.errors == {}


def test_every_request_carries_the_configured_user_agent(sites: SampleSites, tmp_path: Path,
                                                         sqlite_url: str) -> None:
    agent = "newsmon-test/1.0 (+mailto:ops@example.cn)"
    config = tmp_path / "sites.toml"
    config.write_text(with_settings(sites.config_toml(), f'user_agent = "{agent}"'),
                      encoding="utf-8")
    Newsmon(sqlite_url, config, home=tmp_path / "home")("crawl", "--source", "wenweipo")
    agents = {r.headers.get("User-Agent") for r in _requests(sites)}
    assert agents == {agent}
    assert any(r.path == "/robots.txt" for r in _requests(sites))
