"""A page the extractor breaks on is an error to retry, never "not an article".

The site is real (HTTP on 127.0.0.1) and so is the crash: a page whose
``article:published_time`` is ``0001-01-01T00:00:00+14:00`` makes the date code
convert a year-1 time to the site's zone, which overflows ``datetime``
(``OverflowError``). If that bug is fixed, this page no longer crashes and the test
fails on its first assertion: replace the page with another real crash then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import select

from newsmon.storage.engine import Database
from newsmon.storage.models import Article, CrawlRun, UrlRecord
from tests.conftest import Newsmon
from tests.local_http import LocalServer, page_or_404

BODY = "".join(f"<p>{text}</p>" for text in (
    "市政府今天公布了新的交通规划，全市将新增三条地铁线路，预计五年内建成通车。",
    "规划显示，新线路将连接东部新区与老城区，沿线设站二十余座，方便市民出行。",
    "交通部门表示，施工期间将调整部分公交线路，并提前发布绕行提示，减少对交通的影响。",
    "市民对此普遍表示欢迎，不少人认为地铁开通后上下班通勤时间将明显缩短。",
))
ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
{meta}</head><body><h1>{title}</h1><div class="content">{body}</div></body></html>"""
# A year-1 time east of the site's zone: converting it to Asia/Shanghai underflows.
CRASHING_META = '<meta property="article:published_time" content="0001-01-01T00:00:00+14:00">'
INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>新闻</title></head><body>
<ul><li><a href="/news/good.html">市政府公布新的交通规划</a></li>
<li><a href="/news/crash.html">全市将新增三条地铁线路</a></li></ul></body></html>"""


@dataclass
class Site:
    base: str
    requests: list[str] = field(default_factory=list)

    def page(self, path: str) -> bytes | None:
        if path == "/index.html":
            return INDEX.encode()
        if path == "/news/good.html":
            return ARTICLE.format(title="市政府公布新的交通规划", meta="",
                                  body=BODY).encode()
        if path == "/news/crash.html":
            return ARTICLE.format(title="全市将新增三条地铁线路", meta=CRASHING_META,
                                  body=BODY).encode()
        return None


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site("")

    def answer(handler: BaseHTTPRequestHandler) -> None:
        state.requests.append(handler.path)
        page_or_404(handler, state.page(handler.path))

    with LocalServer(answer) as server:
        state.base = server.base
        yield state


def _newsmon(site: Site, tmp_path: Path, db_url: str) -> Newsmon:
    config = tmp_path / "sites.toml"
    config.write_text(f"""[settings]
timezone = "Asia/Shanghai"
backfill_window = "off"

[[sources]]
name = "crashy"
lists = ["{site.base}/index.html"]
allowed_domains = ["127.0.0.1"]
article_pattern = "/news/"

[sources.politeness]
obey_robots = false
download_delay = 0.0
""", encoding="utf-8")
    return Newsmon(db_url, config, home=tmp_path / "home")


def _state(db_url: str) -> tuple[CrawlRun, dict[str, UrlRecord], list[str]]:
    """The newest run, the URL ledger by URL, and the stored articles' URLs."""
    database = Database(db_url)
    with database.session() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        ledger = {row.url: row for row in session.scalars(select(UrlRecord))}
        stored = list(session.scalars(select(Article.canonical_url)))
        session.expunge_all()
    database.dispose()
    assert run is not None
    return run, ledger, stored


def test_a_page_that_crashes_the_extractor_is_counted_and_fetched_again(
        site: Site, tmp_path: Path, sqlite_url: str) -> None:
    newsmon = _newsmon(site, tmp_path, sqlite_url)
    crash = f"{site.base}/news/crash.html"

    first = newsmon("crawl", check=False)
    run, ledger, stored = _state(sqlite_url)
    assert run.errors == {"extract": 1}, first.stderr
    assert run.outcomes == {"new": 1, "error": 1}
    assert stored == [f"{site.base}/news/good.html"]
    assert ledger[crash].state == "failed" and ledger[crash].error == "extract"
    assert first.returncode == 1  # a source had errors
    lines = [line for line in first.stderr.splitlines() if crash in line and "extract" in line]
    assert len(lines) == 1 and "OverflowError" in lines[0], first.stderr

    site.requests.clear()
    newsmon("crawl", check=False)
    run, ledger, stored = _state(sqlite_url)
    assert site.requests.count("/news/crash.html") == 1  # retried, not filed as done
    assert "/news/good.html" not in site.requests  # stored: known
    assert run.errors == {"extract": 1}
    assert run.outcomes == {"known": 1, "error": 1}
    assert ledger[crash].state == "failed" and ledger[crash].failures == 2
    assert stored == [f"{site.base}/news/good.html"]
