"""The extractor on the sample sites' article pages, starting with the seed article.

The sample dzwww.com page reproduces the seed text (leaked empty tags before the
headline, the metadata line, 責編 and the site boilerplate after the body); the other
sample articles are checked for the fields every article page must yield.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from newsmon.crawler.extract import extract_article
from newsmon.samplesites import site_dzwww
from newsmon.samplesites.pages import RenderContext, Resource

SEED_PATH = "/dzwww/qingdao/202001/t20200113_4712345.htm"
BASE = "http://127.0.0.1:8000"
FETCHED_AT = datetime(2020, 1, 14, tzinfo=UTC)


def _dzwww_pages() -> dict[str, Resource]:
    return site_dzwww.render(RenderContext(base_url=BASE, day=1))


def test_seed_article_on_the_sample_dzwww_page() -> None:
    resource = _dzwww_pages()[SEED_PATH]
    article = extract_article(resource.body, url=BASE + SEED_PATH,
                              content_type=resource.content_type, fetched_at=FETCHED_AT)
    assert article.is_article
    assert article.title == "“活”城如謀戰局——看青島如何憑借頂層設計實現“換道超越”"
    assert article.published_at == datetime(2020, 1, 13, 8, 46,
                                            tzinfo=ZoneInfo("Asia/Shanghai"))
    assert article.source == "大衆網"
    assert article.editor == "劉亞會"
    assert "青島換道超越" in article.tags
    assert article.script == "traditional"
    body = article.body
    assert body.startswith("2019年,青島以一個“現象級”的存在")
    assert body.rstrip().endswith("真正搞活這座城。")
    for section in ("戰略篇", "戰役篇", "戰術篇", "保障篇"):
        assert section in body.splitlines()
    for junk in ("廣播頻率", "FM926", "新區民生", "X-POWER-BY", "g1nl9c", "<div", "<dir",
                 "責編", "來源:", "標簽"):
        assert junk not in body, junk


@pytest.mark.parametrize("path", [p for p in _dzwww_pages() if p.count("/") >= 4
                                  and p.endswith(".htm") and "/xinwen/" not in p])
def test_every_sample_dzwww_article_yields_the_core_fields(path: str) -> None:
    resource = _dzwww_pages()[path]
    article = extract_article(resource.body, url=BASE + path,
                              content_type=resource.content_type, fetched_at=FETCHED_AT)
    assert article.is_article, article.warnings
    assert article.title and article.body
    assert article.published_at is not None
    assert article.source
    assert "X-POWER-BY" not in article.body
