"""Item pipelines: extract -> normalise -> dedup -> store, one way.

Each stage takes the previous stage's value and returns the next one; expected
rejects raise :class:`~crawler.errors.Rejected` (a ``DropItem``) with a reason and
increment a ``newsmon/dropped/<why>`` or ``newsmon/errors/<kind>`` stats key, so every
page is accounted for. Final rejects (not an article, not HTML) are written to the
URL ledger so the page is not fetched again.

The store stage writes each article with its URL-ledger rows and its story in one
transaction (several articles per transaction, see :class:`StorePipeline`): a crawl
killed at any point has either stored a page completely or not at all, and the next
run fetches exactly what is missing. Every write runs on the crawl's database thread
(``crawler.store``); stats are counted back on the reactor thread.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task
from twisted.internet.defer import Deferred

from newsmon.config import ExtractOverrides, SourceConfig
from newsmon.crawler.canonical import UrlError, canonicalize
from newsmon.crawler.dedup import SAME_STORY, Fingerprint, fingerprint, similarity
from newsmon.crawler.errors import Rejected
from newsmon.crawler.extract import extract_article
from newsmon.crawler.gate import spider_origins
from newsmon.crawler.items import FetchedPage
from newsmon.crawler.normalise import normalize_article
from newsmon.crawler.outcomes import PageOutcomes
from newsmon.crawler.ownership import believed_canonical
from newsmon.crawler.store import CrawlStore
from newsmon.crawler.workers import POOL_SETTING, PurePool
from newsmon.sanitise import URL_MAX
from newsmon.storage.articles import UpsertStatus, ensure_source, upsert_article
from newsmon.storage.engine import Session
from newsmon.storage.stories import StoryPrint, assign_story, find_match, lock_stories
from newsmon.storage.urls import UrlState, record_article_urls, record_url_outcome
from newsmon.values import ExtractedArticle, NormalizedArticle

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
    page: FetchedPage


@dataclass
class DedupedItem:
    source: str
    article: NormalizedArticle
    fingerprint: Fingerprint
    page: FetchedPage


def _source_config(crawler: Crawler) -> SourceConfig | None:
    config = getattr(crawler.spider, "source_config", None)
    return config if isinstance(config, SourceConfig) else None


class _UsesWorkers:
    """A pure stage that may run its work in the crawl process's worker processes."""

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None  # Scrapy makes it before any component
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.pool: PurePool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        pool = self.crawler.settings.get(POOL_SETTING)
        self.pool = pool if isinstance(pool, PurePool) else None

    def close_spider(self) -> None:
        # The pool is the crawl process's (see crawler.workers.POOL_SETTING): borrowed.
        if self.pool is not None:
            self.stats.set_value("newsmon/workers/offloaded", self.pool.offloaded)
        self.pool = None

    async def _run(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self.pool is None:
            return func(*args, **kwargs)
        return await self.pool.run(func, *args, **kwargs)


def _page_urls(page: FetchedPage) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*page.requested_urls, page.url)))


class ExtractPipeline(_UsesWorkers):
    """Decode and extract the article fields from the raw page bytes."""

    def _overrides(self) -> ExtractOverrides | None:
        config = _source_config(self.crawler)
        return config.extract if config else None

    async def process_item(self, item: FetchedPage) -> ExtractedItem:
        urls = _page_urls(item)
        if item.content_type and not is_html(item.content_type):
            self.stats.inc_value("newsmon/errors/not_html")
            # the header is the server's: quoted, so it cannot forge log lines
            log.warning("%s: not_html %s: Content-Type %r", item.source, item.url,
                        item.content_type)
            raise Rejected("not_html", f"not an HTML page ({item.content_type!r}): {item.url}",
                           urls=urls, final=True)
        if len(item.url) > URL_MAX:
            # a redirect can lead past Scrapy's URL length limit; no index holds such a key
            self.stats.inc_value("newsmon/dropped/url_too_long")
            raise Rejected("url_too_long", f"URL longer than {URL_MAX} characters: "
                           f"{item.url[:200]}…", urls=urls, final=True)
        try:
            article: ExtractedArticle = await self._run(
                extract_article, item.body, url=item.url, content_type=item.content_type,
                fetched_at=item.fetched_at, timezone=item.timezone, overrides=self._overrides(),
                date_hints=item.date_hints)
        except Exception as exc:  # ExtractionFailed: a bug the page trips, not its verdict
            detail = " ".join(str(exc).split()) or type(exc).__name__
            self.stats.inc_value("newsmon/errors/extract")
            log.warning("%s: extract %s: %s", item.source, item.url, detail)
            raise Rejected("extract", f"{item.url}: {detail}", urls=urls) from exc
        for name in article.truncated:
            self.stats.inc_value(f"newsmon/sanitise/truncated/{name}")
        if not article.is_article:
            self.stats.inc_value("newsmon/dropped/not_article")
            raise Rejected("not_article", f"not an article ({article.not_article_reason}): "
                           f"{item.url}", urls=urls, final=True)
        if not article.body.strip() or not article.title.strip():
            self.stats.inc_value("newsmon/dropped/empty")
            raise Rejected("empty", f"no title or body found: {item.url}", urls=urls)
        return ExtractedItem(item.source, article, item)


def is_html(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in {"text/html", "application/xhtml+xml", ""} or mime.startswith("text/")


class NormalizePipeline(_UsesWorkers):
    """Canonical URL, then script-normalised title and body (OpenCC t2s + folding)."""

    async def process_item(self, item: ExtractedItem) -> NormalizedItem:
        config = _source_config(self.crawler)
        aliases = dict(config.host_aliases) if config else None
        article: NormalizedArticle = await self._run(normalize_article, item.article, item.page,
                                                     aliases)
        article = self._on_crawled_origin(item, article, aliases)
        return NormalizedItem(item.source, article, item.page)

    def _on_crawled_origin(self, item: ExtractedItem, article: NormalizedArticle,
                           aliases: dict[str, str] | None) -> NormalizedArticle:
        """The article keyed by its fetched URL when its declared canonical is on an
        origin this source does not crawl (see ``crawler.ownership``)."""
        claimed = article.article.canonical_url
        try:
            fetched = canonicalize(item.page.url, aliases)
        except UrlError:
            return article
        believed = believed_canonical(fetched, claimed, spider_origins(self.crawler.spider))
        if believed == claimed:
            return article
        self.stats.inc_value(_foreign("origin", item.source, item.page.url, claimed))
        return replace(article, article=replace(article.article, canonical_url=believed))


class DedupPipeline(_UsesWorkers):
    """Fingerprint the normalised body: exact hash, MinHash signature, LSH bands.

    Pure computation; the store stage looks the fingerprint up and assigns the story
    in the same transaction that stores the article.
    """

    async def process_item(self, item: NormalizedItem) -> DedupedItem:
        fp: Fingerprint = await self._run(fingerprint, item.article.body_norm)
        return DedupedItem(item.source, item.article, fp, item.page)


class StorePipeline:
    """Upsert by canonical URL with the URL-ledger rows and the story; count outcomes.

    Writes are batched: up to ``NEWSMON_STORE_BATCH`` articles, or what arrived within
    ``NEWSMON_STORE_BATCH_SECONDS``, go in one transaction (and at the end of the
    crawl). A batch that fails is retried article by article, so one bad article
    costs only itself. An article still in an unwritten batch when the crawl is
    killed has no ledger row either, so the next run fetches it again.

    The writes run on the crawl's database thread, one batch after another, while the
    reactor goes on downloading; what they count is added to the stats afterwards, on
    the reactor thread.
    """

    def __init__(self, store: CrawlStore, stats: StatsCollector, crawler: Crawler, *,
                 batch_size: int = 25, batch_seconds: float = 2.0) -> None:
        self.store = store
        self.stats = stats
        self.crawler = crawler
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self._source_ids: dict[str, int] = {}
        self._pending: list[DedupedItem] = []
        self._oldest = 0.0
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        assert crawler.stats is not None
        settings = crawler.settings
        pipeline = cls(CrawlStore.from_crawler(crawler), crawler.stats, crawler,
                       batch_size=settings.getint("NEWSMON_STORE_BATCH", 25),
                       batch_seconds=settings.getfloat("NEWSMON_STORE_BATCH_SECONDS", 2.0))
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

    async def open_spider(self) -> None:
        await self.store.call(self.store.database.ensure_schema)
        # A batch waits at most batch_seconds even when no other article comes: a slow
        # page can hold the crawl open long after the last article arrived.
        self._timer = task.LoopingCall(self._flush_when_due)
        self._timer.start(max(self.batch_seconds, 0.1), now=False)

    def _flush_when_due(self) -> Deferred[None] | None:
        if self._pending and time.monotonic() - self._oldest >= self.batch_seconds:
            return deferred_from_coro(self.flush())
        return None

    async def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        await self.flush()

    def _aliases(self) -> dict[str, str] | None:
        config = _source_config(self.crawler)
        return dict(config.host_aliases) if config else None

    def _source_id(self, session: Session, name: str) -> int:
        source_id = self._source_ids.get(name)
        if source_id is None:
            source_id = self._source_ids[name] = ensure_source(session, name)
        return source_id

    def _ledger_keys(self, item: DedupedItem) -> list[str]:
        aliases = self._aliases()
        keys = [item.article.article.canonical_url]
        for url in _page_urls(item.page):
            try:
                keys.append(canonicalize(url, aliases))
            except UrlError:
                continue
        return [k for k in dict.fromkeys(keys) if len(k) <= URL_MAX]

    async def process_item(self, item: DedupedItem) -> DedupedItem:
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(item)
        if (len(self._pending) >= self.batch_size
                or time.monotonic() - self._oldest >= self.batch_seconds):
            await self.flush()
        return item

    async def flush(self) -> None:
        """Write the pending articles: one transaction, or one each if that fails."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        counts: Counter[str] = Counter()
        try:
            outcomes = await self.store.call(self._write, batch, counts)
        except Exception as exc:
            if not self.store.stop_if_lost(exc):
                raise
            for item in batch:
                _settle(self.crawler, item.page, "error")
            return
        for key, count in counts.items():
            self.stats.inc_value(key, count)
        for item, outcome in zip(batch, outcomes, strict=True):
            _settle(self.crawler, item.page, outcome or "error")
            if outcome is None:
                self._taint_found_on(item)  # fetched again next run
                continue
            self.stats.inc_value(f"newsmon/articles/{outcome}")
            if outcome == UpsertStatus.NEW.value:
                log.info("%s: new article %s", item.source, item.article.article.canonical_url)

    # --- on the database thread ------------------------------------------------------
    def _write(self, batch: list[DedupedItem], counts: Counter[str]) -> list[str | None]:
        """Each item's outcome (None: not stored); raises when the database is lost."""
        try:
            with self.store.database.session() as session, session.begin():
                lock_stories(session)
                return [self._store(session, item, counts) for item in batch]
        except Exception as exc:
            if self.store.lost(exc):
                raise
            log.warning("a batch of %d articles failed (%s); storing them one by one",
                        len(batch), exc)
            counts.clear()  # what the failed batch counted was rolled back
        return [self._store_alone(item, counts) for item in batch]

    def _store_alone(self, item: DedupedItem, counts: Counter[str]) -> str | None:
        url = item.article.article.canonical_url
        mine: Counter[str] = Counter()
        try:
            with self.store.database.session() as session, session.begin():
                lock_stories(session)
                outcome = self._store(session, item, mine)
        except Exception as exc:  # counted; the page is fetched again next run
            counts["newsmon/errors/store"] += 1
            log.error("%s: could not store %s: %s", item.source, url, exc)
            return None
        counts.update(mine)
        return outcome

    def _store(self, session: Session, item: DedupedItem, counts: Counter[str]) -> str:
        """Store ``item``; under its fetched URL if its canonical is another source's."""
        source_id = self._source_id(session, item.source)
        outcome = self._store_under_canonical(session, source_id, item, counts)
        if outcome != UpsertStatus.FOREIGN.value:
            return outcome
        claimed = item.article.article.canonical_url
        counts[_foreign("source", item.source, item.page.url, claimed)] += 1
        try:
            fetched = canonicalize(item.page.url, self._aliases())
        except UrlError:
            return outcome
        if fetched == claimed:
            return outcome  # the fetched URL itself is the other source's article
        own = replace(item, article=replace(
            item.article, article=replace(item.article.article, canonical_url=fetched)))
        return self._store_under_canonical(session, source_id, own, counts)

    def _store_under_canonical(self, session: Session, source_id: int,
                               item: DedupedItem, counts: Counter[str]) -> str:
        now = item.article.fetched_at
        keys = self._ledger_keys(item)
        fp = item.fingerprint
        canonical = item.article.article.canonical_url
        match = find_match(session, StoryPrint(fp.body_hash, fp.signature, fp.bands),
                           source_id=source_id, canonical_url=canonical,
                           similarity=similarity, threshold=SAME_STORY)
        if match is not None and match.how == "exact" and match.source_id == source_id:
            # The same page of the same site under a second address: not a new article.
            record_article_urls(session, keys, source_id=source_id,
                                article_id=match.article_id, now=now,
                                etag=item.page.etag, last_modified=item.page.last_modified)
            return "duplicate"
        outcome = upsert_article(session, source_id, item.article)
        if outcome.status is UpsertStatus.FOREIGN:
            return str(outcome.status.value)  # nothing written; the caller decides
        record_article_urls(session, keys, source_id=source_id, article_id=outcome.article_id,
                            now=now, etag=item.page.etag, last_modified=item.page.last_modified)
        if outcome.status is not UpsertStatus.UNCHANGED:
            story = assign_story(session, outcome.article_id,
                                 StoryPrint(fp.body_hash, fp.signature, fp.bands),
                                 origin=item.article.article.source, now=now,
                                 is_new=outcome.status is UpsertStatus.NEW, match=match)
            counts[f"newsmon/stories/{story.how}"] += 1
        return str(outcome.status.value)

    # --- final rejects go to the URL ledger ----------------------------------------
    def item_error(self, item: Any, response: Any, failure: Any, spider: Any = None) -> None:
        """A stage raised something unexpected (Scrapy logs it): the page failed."""
        _settle(self.crawler, getattr(item, "page", item), "error")

    async def item_dropped(self, item: Any, response: Any, exception: BaseException,
                           spider: Any = None) -> None:
        kind = exception.kind if isinstance(exception, Rejected) else "dropped"
        _settle(self.crawler, getattr(item, "page", item), _REJECT_OUTCOMES.get(kind, "error"))
        if not isinstance(exception, Rejected):
            return
        if not exception.final:
            # Tried again next run: its start page must be read in full then.
            self._taint_found_on(item)
            if exception.kind == "extract":
                await self._record_extract_failure(exception)
            return
        try:
            await self.store.call(self._record_not_article, _item_source(item, spider),
                                  exception.urls)
        except Exception as exc:  # the page is simply fetched again next run
            self.stats.inc_value("newsmon/errors/ledger")
            log.error("could not record %s in the URL ledger: %s", exception.urls, exc)

    def _record_not_article(self, source: str, urls: tuple[str, ...]) -> None:
        aliases = self._aliases()
        now = datetime.now(UTC)
        with self.store.database.session() as session, session.begin():
            source_id = self._source_id(session, source)
            for url in urls:
                try:
                    key = canonicalize(url, aliases)
                except UrlError:
                    continue
                if len(key) <= URL_MAX:
                    record_url_outcome(session, key, source_id=source_id,
                                       state=UrlState.NOT_ARTICLE, now=now, status=200)

    async def _record_extract_failure(self, exception: Rejected) -> None:
        """A page the extractor broke on is a failed article, like a failed fetch: the
        next runs request it again by itself (see ``storage.urls``)."""
        ledger = self.store.ledger
        if ledger is None or not exception.urls:
            return
        try:
            await self.store.call(ledger.record_failure, exception.urls[0], status=200,
                                  kind="extract", now=datetime.now(UTC))
        except Exception as exc:  # the page is still fetched again: its link is not known
            self.stats.inc_value("newsmon/errors/ledger")
            log.error("could not record %s in the URL ledger: %s", exception.urls[0], exc)

    def _taint_found_on(self, item: Any) -> None:
        page = getattr(item, "page", item)
        found_on = getattr(page, "found_on", None)
        if found_on and self.store.ledger is not None:
            self.store.ledger.taint(found_on)


# What a reject means for the page's outcome; other kinds (a failed extraction) are errors.
_REJECT_OUTCOMES = {"not_article": "not_article", "not_html": "not_html", "empty": "empty",
                    "url_too_long": "not_article"}


def _settle(crawler: Crawler, page: Any, outcome: str) -> None:
    """Count ``outcome`` for the linked page ``page`` (see ``crawler.outcomes``)."""
    outcomes = getattr(crawler.spider, "outcomes", None)
    if isinstance(outcomes, PageOutcomes):
        outcomes.settle(getattr(page, "link_key", None), outcome)


def _foreign(why: str, source: str, page_url: str, claimed: str) -> str:
    """Log (one line, both URLs) a declared canonical that was not believed; the stats
    key to count it under. ``why`` is ``origin`` (not crawled by the source) or
    ``source`` (another's article)."""
    whose = ("on an origin the source does not crawl" if why == "origin"
             else "another source's article")
    log.warning("%s: canonical_foreign: %r names %r as canonical, %s; not believed",
                source, page_url, claimed, whose)
    return f"newsmon/canonical_foreign/{why}"


def _item_source(item: Any, spider: Any) -> str:
    source = getattr(item, "source", None)
    if isinstance(source, str):
        return source
    config = getattr(spider, "source_config", None)
    return str(getattr(config, "name", "?"))
