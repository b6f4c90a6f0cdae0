"""The corpus article pages served as one plain news site, crawled by the real CLI.

``tests/data/site/site.py`` (a copy of ``shared/tools/site.py``) serves every article
page of ``tests/data/corpus`` (the corpus truth, ``cases.json``) under ``/a/N.html``,
behind a paginated home page with navigation noise, an RSS feed, a sitemap and a
robots.txt. None of the pages was written for this site, as on a site nobody tuned
newsmon for. The crawl must store no URL the site does not serve, no publish time
later than the crawl, and count every linked page under one outcome.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, UrlRecord
from tests.conftest import Newsmon

DATA = Path(__file__).resolve().parent / "data"
SITE_TOOL = DATA / "site" / "site.py"
CASES = json.loads((DATA / "corpus" / "cases.json").read_text(encoding="utf-8"))
ARTICLES = [case for case in CASES if case["page_type"] == "article"]
PER_LIST_PAGE = 20  # site.py's list pages


@dataclass(frozen=True)
class CorpusSite:
    base: str  # http://127.0.0.1:PORT/
    ids: tuple[str, ...]  # the corpus page behind /a/1.html, /a/2.html, …

    def article_urls(self) -> set[str]:
        return {f"{self.base}a/{n}.html" for n in range(1, len(self.ids) + 1)}

    def served_urls(self) -> set[str]:
        """Every URL the site answers with a page (site.py's own list)."""
        lists = (len(self.ids) + PER_LIST_PAGE - 1) // PER_LIST_PAGE
        other = ["", "index.html", "rss.xml", "sitemap.xml", "robots.txt", "about.html",
                 "login.html", *(f"list_{n}.html" for n in range(1, lists + 1)),
                 *(f"channel/{name}.html" for name in ("news", "finance", "sports", "hot"))]
        return self.article_urls() | {self.base + path for path in other}


def _title(case: dict[str, object]) -> str:
    truth = case["truth"] or {}  # pages without labels have no truth object
    assert isinstance(truth, dict)
    title = truth.get("title") or truth.get("title_contains") or truth.get(
        "document_title") or case["id"]
    return " ".join(str(title).split())  # one TSV field: no tabs or line breaks


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusSite]:
    tmp_path = tmp_path_factory.mktemp("corpus_site")
    pages = tmp_path / "pages"
    pages.mkdir()
    lines = []
    for number, case in enumerate(ARTICLES, start=1):
        page = pages / f"{number}.html"  # site.py serves the file's bytes as they are
        page.write_bytes(gzip.decompress((DATA / "corpus" / "pages" / (case["id"] + ".gz"))
                                         .read_bytes()))
        lines.append(f"{page}\t{_title(case)}\n")
    tsv = tmp_path / "pages.tsv"
    tsv.write_text("".join(lines), encoding="utf-8")
    server = subprocess.Popen([sys.executable, str(SITE_TOOL), str(tsv), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:"), base
        yield CorpusSite(base, tuple(case["id"] for case in ARTICLES))
    finally:
        server.terminate()
        server.wait(timeout=10)


def _config(site: CorpusSite, path: Path) -> Path:
    lists = (len(site.ids) + PER_LIST_PAGE - 1) // PER_LIST_PAGE
    path.write_text(f"""[settings]
timezone = "Asia/Shanghai"
backfill_window = "off"

[[sources]]
name = "corpus"
lists = ["{site.base}"]
feeds = ["{site.base}rss.xml"]
sitemaps = ["{site.base}sitemap.xml"]
allowed_domains = ["127.0.0.1"]
max_list_pages = {lists + 1}

[sources.politeness]
obey_robots = true
download_delay = 0.0
""", encoding="utf-8")
    return path


@dataclass
class Crawled:
    articles: list[Article]
    run: CrawlRun
    ledger: dict[str, str]  # URL -> state
    finished: datetime
    stdout: str


@pytest.fixture(scope="module")
def crawled(corpus_site: CorpusSite, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """One crawl of the site (the three checks read the same crawl)."""
    tmp_path = tmp_path_factory.mktemp("corpus_crawl")
    sqlite_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    newsmon = Newsmon(sqlite_url, _config(corpus_site, tmp_path / "corpus.toml"),
                      home=tmp_path / "home")
    result = newsmon("crawl", check=False, timeout=600)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    finished = datetime.now(UTC)
    database = Database(sqlite_url)
    with database.session() as session:
        articles = list(session.scalars(select(Article)))
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(1)).one()
        ledger = {url: state for url, state in session.execute(
            select(UrlRecord.url, UrlRecord.state))}
    database.dispose()
    return Crawled(articles, run, ledger, finished, result.stdout)


def _which(site: CorpusSite, url: str) -> str:
    """The corpus page behind a URL of the site, for readable failures."""
    tail = url.removeprefix(f"{site.base}a/").removesuffix(".html")
    return site.ids[int(tail) - 1] if tail.isdigit() and 0 < int(tail) <= len(site.ids) else url


def test_every_linked_page_is_counted_under_one_outcome(corpus_site: CorpusSite,
                                                         crawled: Crawled) -> None:
    outcomes = crawled.run.outcomes or {}
    assert crawled.run.status == "finished" and "unfinished" not in outcomes, outcomes
    linked = sum(outcomes.values())
    # The sitemap names every article page, so each was linked at least once.
    assert linked >= len(corpus_site.ids)
    assert f"corpus: {linked} linked pages: " in crawled.stdout
    # The counts agree with what the database holds.
    assert outcomes.get("new", 0) == len(crawled.articles) > 0
    states = list(crawled.ledger.values())
    assert outcomes.get("not_article", 0) == states.count("not_article")
    failed = [state for state in states if state in ("failed", "gone")]
    assert outcomes.get("error", 0) == len(failed)
    # Every article page of the site ended in the URL ledger under its outcome, unless it
    # was counted as having no text (tried again next run, so not remembered).
    missing = corpus_site.article_urls() - set(crawled.ledger)
    assert len(missing) == outcomes.get("empty", 0), sorted(missing)


def test_no_stored_url_the_site_does_not_serve(corpus_site: CorpusSite,
                                               crawled: Crawled) -> None:
    served = corpus_site.article_urls()
    wrong = sorted((_which(corpus_site, a.url), url) for a in crawled.articles
                   for url in (a.url, a.canonical_url) if url not in served)
    assert wrong == []


def test_no_publish_time_later_than_the_crawl(corpus_site: CorpusSite,
                                              crawled: Crawled) -> None:
    future = sorted((_which(corpus_site, a.url), a.published_at.isoformat())
                    for a in crawled.articles
                    if a.published_at is not None and a.published_at > crawled.finished)
    assert future == []
