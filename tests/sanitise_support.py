"""Hostile pages through the real extract -> normalise -> fingerprint -> store path."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

from newsmon.crawler.dedup import SAME_STORY, fingerprint, similarity
from newsmon.crawler.extract import extract_article
from newsmon.crawler.items import FetchedPage
from newsmon.crawler.normalise import normalize_article
from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database
from newsmon.storage.stories import StoryPrint, assign_story, find_match, lock_stories
from newsmon.storage.urls import record_article_urls
from newsmon.values import ExtractedArticle

FETCHED_AT = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PARAGRAPHS = (
    "青岛港今年前四个月货物吞吐量同比增长百分之六，集装箱航线持续增加。港口方面表示，"
    "将继续扩大对外开放，服务区域经济发展。",
    "记者在码头看到，自动化岸桥正在装卸集装箱，一艘远洋货轮缓缓靠泊。工作人员介绍，"
    "新航线开通后，货物运往东南亚的时间缩短了两天。",
    "业内人士认为，港口吞吐量的增长反映出外贸企业订单回暖，下一步还需提升服务水平，"
    "吸引更多货源在本地中转。",
)


def _entities(text: str) -> str:
    """Every character as a numeric character reference (``&#1;``, ``&#xFFFF;``)."""
    return "".join(f"&#{ord(ch)};" for ch in text)


def json_ld_string(text: str) -> str:
    """A JSON string safe inside ``<script>`` (lone surrogates stay ``\\udxxx``)."""
    return json.dumps(text).replace("<", "\\u003c")


PLACES = ("node", "attr", "entity", "json")


def hostile_page(
    text: str,
    places: frozenset[str] = frozenset(PLACES),
    url: str = "http://news.example.cn/a/1.html",
) -> bytes:
    """An article page with ``text`` in every field, written into text nodes,
    attributes, numeric entities and JSON-LD (those of ``places``). Encoded with
    ``surrogatepass``, so a lone surrogate in a text node becomes bytes."""
    attr = html.escape(text, quote=True) if "attr" in places else ""
    node = html.escape(text, quote=False) if "node" in places else ""
    ld = json_ld_string(text if "json" in places else "")

    def entities(text: str) -> str:
        return _entities(text) if "entity" in places else ""

    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>港口新闻{node} - 示例新闻网</title>
<meta property="og:title" content="港口新闻{attr}">
<meta name="source" content="{attr}青岛日报">
<meta name="author" content="{attr}">
<meta name="keywords" content="港口,{attr},{entities(text)}">
<link rel="canonical" href="{url}?q={attr}">
<script type="application/ld+json">{{"@type": "NewsArticle",
 "headline": {json_ld_string("港口新闻")[:-1]}{ld[1:]},
 "author": {{"@type": "Person", "name": {ld}}},
 "publisher": {{"@type": "Organization", "name": {ld}}},
 "keywords": [{ld}, "港口"], "datePublished": {ld}}}</script>
</head><body><div class="article">
<h1>港口新闻{node}{entities(text)}</h1>
<div class="info">来源：{node}青岛日报 作者：{entities(text)} 2024-04-30 10:00</div>
<p>{PARAGRAPHS[0]}{node}</p><p title="{attr}">{entities(text)}{PARAGRAPHS[1]}</p>
<p>{PARAGRAPHS[2]}</p><div class="editor">责任编辑：{node}</div>
</div></body></html>"""
    return page.encode("utf-8", "surrogatepass")


def extract(raw: bytes, url: str = "http://news.example.cn/a/1.html") -> ExtractedArticle:
    return extract_article(raw, url=url, content_type="text/html", fetched_at=FETCHED_AT)


def store_page(database: Database, raw: bytes, url: str, site: str = "hostile") -> int | None:
    """Store a page exactly as the store stage does; the article id, or None when the
    page is no article (the pipeline would drop it)."""
    article = extract(raw, url)
    if not article.is_article or not article.title.strip() or not article.body.strip():
        return None
    page = FetchedPage(
        source=site,
        url=url,
        body=raw,
        content_type="text/html",
        fetched_at=FETCHED_AT,
        timezone="Asia/Shanghai",
    )
    normalized = normalize_article(article, page)
    fp = fingerprint(normalized.body_norm)
    prints = StoryPrint(fp.body_hash, fp.signature, fp.bands)
    with database.session() as session, session.begin():
        lock_stories(session)
        source_id = ensure_source(session, site)
        canonical = normalized.article.canonical_url
        match = find_match(
            session,
            prints,
            source_id=source_id,
            canonical_url=canonical,
            similarity=similarity,
            threshold=SAME_STORY,
        )
        outcome = upsert_article(session, source_id, normalized)
        record_article_urls(
            session, [canonical], source_id=source_id, article_id=outcome.article_id, now=FETCHED_AT
        )
        assign_story(
            session,
            outcome.article_id,
            prints,
            origin=normalized.article.source,
            now=FETCHED_AT,
            is_new=True,
            match=match,
        )
    return outcome.article_id
