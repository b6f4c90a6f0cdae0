"""Every linked page accounted for: the crawl summary and the run ledger count each page
a list, feed or sitemap linked to under one outcome, and ``sources check`` says why a
linked page is not an article. Real crawls of the sample sites over HTTP on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, Source
from tests.conftest import Newsmon, with_settings

BROKEN_PATTERN = 'article_pattern = "/broken/(?!index|feed)"'


def _runs(db_url: str) -> dict[str, CrawlRun]:
    """The newest run of each source."""
    database = Database(db_url)
    with database.session() as session:
        rows = session.execute(select(Source.name, CrawlRun).join(
            Source, Source.id == CrawlRun.source_id).order_by(CrawlRun.id)).all()
    database.dispose()
    return {name: run for name, run in rows}


def _stored(db_url: str, source: str) -> int:
    database = Database(db_url)
    with database.session() as session:
        count = session.scalar(select(func.count(Article.id)).join(Source).where(
            Source.name == source))
    database.dispose()
    return int(count or 0)


def test_each_broken_page_has_its_outcome_in_the_summary_and_the_ledger(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    text = with_settings(sites.config_toml(include_broken=True), 'backfill_window = "off"')
    config = tmp_path / "broken.toml"
    config.write_text(text.replace('name = "broken"', f'name = "broken"\n{BROKEN_PATTERN}'),
                      encoding="utf-8")
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")

    first = newsmon("crawl", "--source", "broken", check=False)
    # ok.html, wrong-charset.html stored; busy.html (503, then 200) is ok.html again and
    # moved.html redirects to it; the PDF is not fetched; secret.html is robots-forbidden;
    # 404, 500, timeout, redirect loop and two oversized pages failed.
    assert _runs(sqlite_url)["broken"].outcomes == {
        "new": 2, "unchanged": 1, "duplicate": 1, "document": 1, "forbidden": 1, "error": 6}
    assert ("broken: 12 linked pages: 2 new, 1 unchanged, 1 same page at another URL, "
            "1 document, not fetched, 1 forbidden (robots.txt), 6 failed\n") in first.stdout
    assert _stored(sqlite_url, "broken") == 2

    second = newsmon("crawl", "--source", "broken", check=False)
    # The server error, the loop, the slow and the oversized pages are tried again; the
    # stored, gone, duplicate and forbidden ones are known.
    assert _runs(sqlite_url)["broken"].outcomes == {"known": 6, "document": 1, "error": 5}
    assert ("broken: 12 linked pages: 6 already known, not fetched, 1 document, not fetched, "
            "5 failed\n") in second.stdout


def test_sample_site_pages_add_up_to_the_links_and_match_the_database(
        newsmon: Newsmon) -> None:
    out = newsmon("crawl").stdout
    runs = _runs(newsmon.db_url)
    assert set(runs) == {"dzwww", "qingdaonews", "bandao", "wenweipo"}
    for name, run in runs.items():
        assert run.outcomes is not None and "unfinished" not in run.outcomes, name
        assert run.outcomes.get("new", 0) == run.new_articles == _stored(
            newsmon.db_url, name), name
        linked = sum(run.outcomes.values())
        assert f"{name}: {linked} linked pages: " in out
    # section index pages linked from the lists are named, not silently skipped
    assert runs["bandao"].outcomes == {"new": 9, "not_article": 9}
    assert "bandao: 18 linked pages: 9 new, 9 not an article\n" in out


def test_check_says_why_a_linked_page_is_not_an_article(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "about.toml"
    config.write_text(f'[[sources]]\nname = "about"\nlists = ["'
                      f'{sites.url("/bandao/news/index.html")}"]\n'
                      'article_pattern = "/bandao/about\\\\.html$"\n', encoding="utf-8")
    out = Newsmon(sqlite_url, config, home=tmp_path / "home")("sources", "check", "about").stdout
    about = sites.url("/bandao/about.html")
    assert "article    no: no article body found\n" in out
    assert out.endswith(f"\nnot an article: {about}: no article body found\n")
