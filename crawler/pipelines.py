"""Item pipelines: extract -> normalise -> store, one way.

Each stage takes the previous stage's value and returns the next one; expected
rejects raise ``DropItem`` with a reason and increment a ``newsmon/dropped/<why>`` or
``newsmon/errors/<kind>`` stats key, so every page is accounted for.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from newsmon.textnorm import normalize
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.extract import extract_article
from crawler.items import FetchedPage
from newsmon.config import ExtractOverrides
from newsmon.values import ExtractedArticle, NormalizedArticle
from storage.articles import UpsertStatus, ensure_source, upsert_article
from storage.engine import Database

log = logging.getLogger(__name__)


@dataclass
class ExtractedItem:
    source: str
    article: ExtractedArticle
    page: FetchedPage


@dataclass
class NormalizedItem:
    source: str
    article: NormalizedArticle


class ExtractPipeline:
    """Decode and extract the article fields from the raw page bytes."""

    def __init__(self, stats: StatsCollector, crawler: Crawler) -> None:
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats, crawler)

    def _overrides(self) -> ExtractOverrides | None:
        source_config = getattr(self.crawler.spider, "source_config", None)
        return getattr(source_config, "extract", None)

    def process_item(self, item: FetchedPage) -> ExtractedItem:
        try:
            article = extract_article(item.body, url=item.url, content_type=item.content_type,
                                      fetched_at=item.fetched_at, timezone=item.timezone,
                                      overrides=self._overrides())
        except Exception as exc:  # the extractor promises not to raise; count if it does
            self.stats.inc_value("newsmon/errors/extract")
            log.warning("%s: extract failed for %s: %r", item.source, item.url, exc)
            raise DropItem(f"extraction failed for {item.url}: {exc!r}") from exc
        if not article.is_article:
            self.stats.inc_value("newsmon/dropped/not_article")
            raise DropItem(f"not an article: {item.url}")
        if not article.body.strip() or not article.title.strip():
            self.stats.inc_value("newsmon/dropped/empty")
            raise DropItem(f"no title or body found: {item.url}")
        return ExtractedItem(item.source, article, item)


def content_hash(title_norm: str, body_norm: str) -> str:
    """Identity of an article's normalised content (changes when the text changes)."""
    return hashlib.sha256(f"{title_norm}\n{body_norm}".encode()).hexdigest()


def normalize_article(article: ExtractedArticle, page: FetchedPage
                      ) -> NormalizedArticle:
    title_norm = normalize(article.title)
    body_norm = normalize(article.body)
    return NormalizedArticle(article=article, title_norm=title_norm, body_norm=body_norm,
                             content_hash=content_hash(title_norm, body_norm),
                             fetched_at=page.fetched_at)


class NormalizePipeline:
    """Script-normalise title and body (OpenCC t2s + folding) for matching and search."""

    def process_item(self, item: ExtractedItem) -> NormalizedItem:
        return NormalizedItem(item.source, normalize_article(item.article, item.page))


class StorePipeline:
    """Upsert by canonical URL; count new / updated / unchanged articles."""

    def __init__(self, database_url: str, stats: StatsCollector) -> None:
        self.database_url = database_url
        self.stats = stats
        self.database: Database | None = None
        self._source_ids: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        assert crawler.stats is not None
        return cls(crawler.settings.get("NEWSMON_DB"), crawler.stats)

    def open_spider(self) -> None:
        self.database = Database(self.database_url)
        self.database.ensure_schema()

    def close_spider(self) -> None:
        if self.database is not None:
            self.database.dispose()

    def process_item(self, item: NormalizedItem) -> NormalizedItem:
        assert self.database is not None, "open_spider() opens the database"
        with self.database.session() as session, session.begin():
            source_id = self._source_ids.get(item.source)
            if source_id is None:
                source_id = self._source_ids[item.source] = ensure_source(session, item.source)
            try:
                outcome = upsert_article(session, source_id, item.article)
            except Exception as exc:  # counted and dropped: the page is fetched again next run
                self.stats.inc_value("newsmon/errors/store")
                url = item.article.article.canonical_url
                log.error("%s: could not store %s: %s", item.source, url, exc)
                raise DropItem(f"store failed for {url}: {exc}") from exc
        self.stats.inc_value(f"newsmon/articles/{outcome.status.value}")
        if outcome.status is UpsertStatus.NEW:
            log.info("%s: new article %s", item.source, item.article.article.canonical_url)
        return item
