"""Link discovery on recorded list pages, feeds and sitemaps, and on the sample sites.

The corpus list pages (``tests/data/corpus``, see its PROVENANCE.md) carry the item
count and first item title their source projects asserted; discovery must find the
expected items on at least the share of pages in ``tests/data/lists/floors.json``,
and every page listed there as passing must keep passing.
"""

from __future__ import annotations

import gzip
import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from newsmon.crawler.links import (
    Link,
    article_shaped,
    find_article_links,
    find_feed_links,
    find_next_page,
    headline_like,
    is_article_link,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    score_list_page,
)
from newsmon.samplesites import SampleSites
from newsmon.samplesites import sites as sample_sites

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"
FLOORS = json.loads((DATA / "lists" / "floors.json").read_text(encoding="utf-8"))


def _page(case_id: str) -> bytes:
    return gzip.decompress((CORPUS / "pages" / f"{case_id}.gz").read_bytes())


def _labelled_lists() -> list[dict[str, Any]]:
    cases = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
    return [c for c in cases if c["page_type"] == "list" and c.get("truth")
            and ({"expected_item_count", "first_item_title"} & set(c["truth"]))]


LABELLED = _labelled_lists()


def test_the_labelled_list_pages_are_all_here() -> None:
    assert len(LABELLED) >= 15
    assert {c["id"] for c in LABELLED} == set(FLOORS["pages"])


def test_discovery_finds_the_expected_items_on_enough_corpus_list_pages() -> None:
    results = {}
    for case in LABELLED:
        truth = case["truth"]
        results[case["id"]] = score_list_page(
            _page(case["id"]), case["url"], expected_items=truth.get("expected_item_count"),
            first_item=truth.get("first_item_title"))
    passed = [case_id for case_id, score in results.items() if score.passed]
    assert len(passed) / len(results) >= FLOORS["pass_rate"], {
        k: v for k, v in results.items() if not v.passed}
    regressed = [case_id for case_id, must in FLOORS["pages"].items()
                 if must and not results[case_id].passed]
    assert regressed == [], {k: results[k] for k in regressed}


@pytest.mark.parametrize(("url", "text", "expected"), [
    ("https://www.dzwww.com/xinwen/202001/t20200113_4712345.htm", "看青島如何實現換道超越", True),
    ("https://news.qingdaonews.com/content/2020-01/13/content_21012345.htm",
     "土豆不土 土豆无土", True),
    ("https://hd.stheadline.com/news/daily/hk/874104/日報-港聞-全民免費檢測",
     "全民免費檢測 最快兩周後展開", True),
    ("https://www.example.cn/index.php?m=content&c=index&a=show&catid=9&id=12345",
     "市政府召开新闻发布会", True),
    ("https://www.example.com/world/some-long-article-slug-here", "A headline long enough to count",
     True),
    ("https://www.dzwww.com/xinwen/index.htm", "更多滾動新聞請點擊這裏", False),     # front page
    ("https://www.dzwww.com/tag/12.htm", "台灣電影相關新聞報道", False),          # tag page
    ("https://www.dzwww.com/channel/qingdao/", "青島頻道最新新聞報道", False),     # channel
    ("https://www.dzwww.com/member/login.htm", "會員登錄請輸入密碼", False),        # account
    ("https://www.dzwww.com/search/?q=青島", "搜索青島相關的新聞", False),         # search
    ("https://ads.example.com/c?aid=101", "【推廣】山東旅遊好客山東歡迎您", False),  # ad host
    ("https://www.example.cn/ads/c?aid=103", "【推廣】山東旅遊好客山東歡迎您", False),  # ad path
    ("https://www.dzwww.com/xinwen/202001/t20200113_4712345.htm", "首頁", False),  # menu text
    ("https://www.dzwww.com/xinwen/202001/t20200113_4712345.htm", "more", False),
])
def test_the_generic_article_link_rule(url: str, text: str, expected: bool) -> None:
    assert is_article_link(Link(url, text), "https://www.dzwww.com/xinwen/index.htm") is expected


def test_headline_and_url_shapes() -> None:
    assert headline_like("震驚！中國勞改犯求救信")
    assert not headline_like("港聞")
    assert headline_like("Apple unveils a new iPhone model today")
    assert not headline_like("Contact us")
    assert article_shaped("https://hsqhfunds.com/upload/user/1/2020-7-2/195400974278.pdf")
    assert not article_shaped("https://www.example.cn/user/center.html")
    assert Link("https://a.cn/upload/2020/notice.PDF", "关于基金的公告全文").is_document
    assert not Link("https://a.cn/a/1.html", "关于基金的公告全文").is_document


def test_a_link_repeated_with_tracking_parameters_is_one_link_with_the_headline() -> None:
    page = """<html><body>
      <a href="/a/1.html?spm=hot.1"><img src="x.jpg"></a>
      <a href="/a/1.html">青島換道超越的頂層設計</a>
      <a href="/a/1.html#comments">青島換道超越的頂層設計：讀者評論三百條</a>
      <a href="/a/2.html" title="第二條新聞的完整標題">第二條</a>
    </body></html>"""
    links = find_article_links(page, "http://example.cn/list.html")
    assert [(urlsplit(link.url).path, link.text) for link in links] == [
        ("/a/1.html", "青島換道超越的頂層設計"), ("/a/2.html", "第二條新聞的完整標題")]


def test_a_pattern_from_the_config_decides_alone() -> None:
    page = '<a href="/n/1.html">短</a><a href="/a/2.html">一條很長很長的新聞標題</a>'
    links = find_article_links(page, "http://example.cn/", pattern=r"/n/\d+\.html$")
    assert [link.url for link in links] == ["http://example.cn/n/1.html"]


def test_next_page_feed_links_and_robots_sitemaps() -> None:
    page = """<html><head>
      <link rel="alternate" type="application/rss+xml" href="/rss/news.xml">
      <link rel="alternate" type="text/html" hreflang="en" href="/en/">
      </head><body><a href="index_2.html">下一頁</a></body></html>"""
    base = "http://example.cn/news/index.html"
    assert find_next_page(page, base) == "http://example.cn/news/index_2.html"
    assert find_feed_links(page, base) == ["http://example.cn/rss/news.xml"]
    robots = "User-agent: *\nDisallow: /ads/\nSitemap: /sitemap.xml\nsitemap: https://x.cn/s2.xml\n"
    assert robots_sitemaps(robots, "http://example.cn/robots.txt") == [
        "http://example.cn/sitemap.xml", "https://x.cn/s2.xml"]


@pytest.mark.parametrize(("case_id", "count", "first"), [
    ("ayltai__hknews/feeds/rthk_clocal.xml", 20, "Facebook稱將禁遭美制裁中港官員帳戶支付服務"),
    ("ayltai__hknews/feeds/mingpao_s00001.xml", 82,
     "全民自願驗 林鄭認無禁足成效打折 涉款料可達24億 3內地機構承包"),
])
def test_corpus_feeds_give_their_entries(case_id: str, count: int, first: str) -> None:
    links = parse_feed(_page(case_id), "https://example.hk/")
    assert len(links) == count
    assert links[0].text == first


def test_atom_json_feed_and_sitemaps_from_the_corpus() -> None:
    folder = "adbar__trafilatura/feeds_sitemaps"
    assert len(parse_feed(_page(f"{folder}/feed1.atom"), "https://x/")) >= 2
    assert len(parse_feed(_page(f"{folder}/feed.json"), "https://x/")) >= 20
    kind, urls = parse_sitemap(_page(f"{folder}/sitemap.xml"))
    assert kind == "urlset" and len(urls) > 50
    assert parse_sitemap(_page(f"{folder}/sitemap2.xml"))[0] == "sitemapindex"
    assert parse_sitemap(b"<html>not a sitemap</html>") == ("invalid", [])
    assert parse_sitemap(b"") == ("invalid", [])


def _linked_paths(body: bytes, url: str) -> set[str]:
    """The paths of every anchor on a page, however written (the ground truth)."""
    doc = lxml.html.document_fromstring(body)
    return {urlsplit(urljoin(url, a.get("href") or "")).path for a in doc.iter("a")}


def _fetch(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers.get("Content-Type")


@pytest.mark.parametrize("day", [1, 2])
def test_every_sample_list_page_gives_exactly_its_article_links(sites: SampleSites,
                                                                  day: int) -> None:
    """No navigation, channel, tag, advertisement or pager link is taken for an
    article, and no article linked from a list page is missed."""
    sites.set_day(day)
    articles = {a.path for a in sites.articles()}
    pages = 0
    for site in sample_sites.NEWS_SITES:
        url: str | None = sites.url(site.spec.list_path)
        while url:
            pages += 1
            body, content_type = _fetch(url)
            found = {urlsplit(link.url).path for link in
                     find_article_links(body, url, content_type=content_type)}
            linked = _linked_paths(body, url) & articles
            assert found == linked, (url, found ^ linked)
            url = find_next_page(body, url, content_type)
    assert pages > len(sample_sites.NEWS_SITES)  # pagination was followed too
