"""Bad sites never stop a crawl, and a killed crawl loses and duplicates nothing.

The ``broken`` sample site serves a 404, a 500, a 503 with ``Retry-After``, a page
slower than the configured timeout, a redirect loop, GBK bytes declared as UTF-8,
20 MB pages (with and without Content-Length), a PDF and a page robots.txt forbids.
Everything runs the real ``newsmon crawl`` over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from newsmon.crawler.middlewares import retry_delay
from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, UrlRecord
from tests.conftest import Newsmon, with_settings

# Every article page of the broken site is reachable through this pattern (the generic
# rule would rightly skip "超大页面" and the PDF as too short to be headlines).
BROKEN_PATTERN = 'article_pattern = "/broken/(?!index|feed)"'


def _broken_config(sites: SampleSites, tmp_path: Path) -> Path:
    text = with_settings(sites.config_toml(include_broken=True), 'backfill_window = "off"')
    config = tmp_path / "broken.toml"
    config.write_text(text.replace('name = "broken"', f'name = "broken"\n{BROKEN_PATTERN}'),
                      encoding="utf-8")
    return config


def _last_run(db_url: str) -> CrawlRun:
    database = Database(db_url)
    with database.session() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
    database.dispose()
    return run


def test_every_broken_page_is_a_counted_error_and_the_crawl_goes_on(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    newsmon = Newsmon(sqlite_url, _broken_config(sites, tmp_path), home=tmp_path / "home")
    result = newsmon("crawl", "--source", "broken", check=False)
    assert result.returncode == 1  # errors happened; the crawl itself finished
    run = _last_run(sqlite_url)
    assert run.status == "finished" and run.finish_reason == "finished"
    assert run.errors["http_404"] == 1
    assert run.errors["http_500"] == 1          # after its retries
    assert run.errors["timeout"] == 1           # slow.html vs download_timeout = 2 s
    assert run.errors["redirect_loop"] == 1
    assert run.errors["too_large"] == 2         # 20 MB, with and without Content-Length
    assert run.errors["robots"] == 1
    for kind in ("http_404", "http_500", "timeout", "redirect_loop", "too_large"):
        assert kind in result.stderr  # one log line each, naming the URL
    database = Database(sqlite_url)
    with database.session() as session:
        titles = set(session.scalars(select(Article.title)))
    database.dispose()
    # GBK bytes declared as UTF-8 are decoded right; the 503 page was retried after
    # Retry-After and is the same article as ok.html (and moved.html, its old address).
    assert titles == {"谁来为无序拆房“埋单”？", "马克龙星期一在莫斯科与普京会面"}
    busy = [r.status for r in sites.requests.entries() if r.path == "/broken/busy.html"]
    assert busy == [503, 200]
    assert not any(r.path == "/broken/private/secret.html" for r in sites.requests.entries())
    assert not any(r.path == "/broken/report.pdf" for r in sites.requests.entries())


def test_a_second_crawl_does_not_refetch_gone_or_stored_pages(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    newsmon = Newsmon(sqlite_url, _broken_config(sites, tmp_path), home=tmp_path / "home")
    newsmon("crawl", "--source", "broken", check=False)
    sites.requests.clear()
    newsmon("crawl", "--source", "broken", check=False)
    asked = {r.path for r in sites.requests.entries()}
    assert not asked & {"/broken/gone.html", "/broken/ok.html", "/broken/moved.html",
                        "/broken/wrong-charset.html", "/broken/busy.html"}
    assert "/broken/error.html" in asked  # a server error is tried again next run
    # A link robots.txt forbids was counted once; it is not an error again every run.
    assert "robots" not in _last_run(sqlite_url).errors


@pytest.mark.parametrize(("header", "attempt", "expected"), [
    ("1", 1, 1.0),                                   # Retry-After in seconds
    ("Wed, 13 Jan 2021 00:00:30 GMT", 1, 30.0),      # Retry-After as an HTTP date
    ("Wed, 13 Jan 2021 00:00:00 GMT", 1, 0.0),       # a date in the past: at once
    ("3600", 1, None),                               # longer than we wait: next run
    (None, 1, 1.0), (None, 2, 2.0), (None, 3, 4.0),  # exponential backoff
    (None, 9, 30.0),                                 # capped
    ("soon", 2, 2.0),                                # unparseable: our own backoff
])
def test_retry_waits(header: str | None, attempt: int, expected: float | None) -> None:
    from datetime import UTC, datetime

    now = datetime(2021, 1, 13, 0, 0, tzinfo=UTC)
    assert retry_delay(header, attempt, now, base=1.0, cap=30.0,
                       retry_after_max=60.0) == expected


def _count_articles(db_url: str) -> int:
    """Stored articles, read without taking part in the crawl's transactions."""
    path = db_url.removeprefix("sqlite:///")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                                timeout=5)) as connection:
            return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:  # no database or no schema yet while the crawl starts
        return 0


def test_a_crawl_killed_halfway_and_run_again_loses_and_duplicates_nothing(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    expected = {a.path for a in sites.articles(day=1)}
    slow = tmp_path / "slow.toml"  # a polite delay makes the crawl take long enough to kill
    slow.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"')
                    .replace("download_delay = 0.0", "download_delay = 1.0"), encoding="utf-8")
    killed = Newsmon(sqlite_url, slow, home=tmp_path / "home")
    log = tmp_path / "killed.log"
    with log.open("w", encoding="utf-8") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "newsmon", "--db", sqlite_url,
                                  "--config", str(slow), "crawl"], env=killed.env(),
                                 stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 120
            while _count_articles(sqlite_url) < 3 and child.poll() is None:
                assert time.monotonic() < deadline, "the crawl stored nothing in two minutes"
                time.sleep(0.1)
            assert child.poll() is None, (f"the crawl ended (exit {child.returncode}) before "
                                          f"it could be killed:\n"
                                          f"{log.read_text(encoding='utf-8')[-2000:]}")
            os.kill(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)
    stored_before = _count_articles(sqlite_url)
    assert 0 < stored_before < len(expected), "killed halfway"

    fast = tmp_path / "sites.toml"
    fast.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"'),
                    encoding="utf-8")
    Newsmon(sqlite_url, fast, home=tmp_path / "home")("crawl")

    database = Database(sqlite_url)
    with database.session() as session:
        articles = session.scalars(select(Article)).all()
        stored_urls = {r.url for r in session.scalars(
            select(UrlRecord).where(UrlRecord.state == "stored"))}
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
    database.dispose()
    paths = [urlsplit(a.canonical_url).path for a in articles]
    assert sorted(paths) == sorted(expected)  # nothing lost, nothing twice
    assert all(a.story_id is not None for a in articles)
    assert {a.canonical_url for a in articles} <= stored_urls
    assert [r.status for r in runs[-4:]] == ["finished"] * 4
    assert any(r.status == "running" for r in runs[:-4])  # the killed run's rows stay open
