"""The one spider: crawls a configured source's list pages, feeds and sitemaps.

It only routes requests. Which links are articles is decided in ``crawler.links``;
which of them are already known, in the URL ledger (``crawler.ledger``), asked on the
crawl's database thread (``crawler.store``) so the reactor never waits on it; what an
article says, by the pipelines. Every failed request is counted under
``newsmon/errors/<kind>`` and logged with its URL; the crawl goes on.

Incremental by construction:

* start pages are fetched every run (conditionally, see ``crawler.middlewares``);
  a believed ``304 Not Modified`` ends that start page for this run;
* an article link whose canonical URL the ledger knows is not requested
  (``newsmon/articles/skipped_known``), nor is one already requested this run;
* a list is followed to its next page while a page still holds links that were
  neither known nor already requested, or while the next page has not been read in
  full by a crawl that finished (so a killed crawl's unread pages are read next run).

Run by ``newsmon crawl`` or directly: ``scrapy crawl news -a source=NAME`` (config
from ``NEWSMON_CONFIG``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from newsmon.config import ConfigError, SourceConfig, load_config
from newsmon.crawler.errors import classify_failure, http_status_of
from newsmon.crawler.gate import GateDropped, Origins
from newsmon.crawler.items import FetchedPage
from newsmon.crawler.ledger import CrawlLedger, links_digest
from newsmon.crawler.links import (
    find_article_links,
    find_next_page,
    parse_feed,
    parse_sitemap_entries,
)
from newsmon.crawler.outcomes import PageOutcomes, failure_outcome
from newsmon.crawler.store import CrawlStore
from newsmon.sanitise import ETAG_MAX, LAST_MODIFIED_MAX, header_value
from newsmon.storage.engine import database_lost

MAX_SITEMAP_DEPTH = 3
NOT_MODIFIED = 304


class NewsSpider(scrapy.Spider):
    name = "news"
    store: CrawlStore  # the crawl's database owner, set by from_crawler

    def __init__(self, source_config: SourceConfig, ledger: CrawlLedger, **kwargs: Any) -> None:
        super().__init__(name=f"news:{source_config.name}", **kwargs)
        self.source_config = source_config
        self.allowed_domains = list(source_config.allowed_domains) or sorted(
            {urlsplit(u).hostname or "" for u in source_config.start_urls} - {""})
        # crawler.gate.RequestGate reads this: the origins every request must stay on.
        self.gate_origins = Origins.of(source_config.start_urls, source_config.allowed_domains)
        self.ledger = ledger
        self._requested: set[str] = set()  # canonical URLs requested this run
        self.outcomes: PageOutcomes | None = None  # set once the crawler's stats exist

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        if "source_config" not in kwargs:
            kwargs["source_config"] = _source_from_settings(crawler, kwargs.pop("source", None))
        config: SourceConfig = kwargs["source_config"]
        store = CrawlStore.from_crawler(crawler)
        kwargs["ledger"] = store.open_ledger(config.name, dict(config.host_aliases))
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.store = store
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        return spider

    async def _opened(self, spider: Any) -> None:
        self.outcomes = PageOutcomes(self.crawler.stats)
        await self.store.call(self.ledger.open)

    async def closed(self, reason: str) -> None:
        try:
            written = await self.store.call(self.ledger.close, reason, datetime.now(UTC))
        except Exception as exc:
            if database_lost(exc) is None:
                raise
            return  # `newsmon crawl` reports the lost database in one line
        self.crawler.stats.set_value("newsmon/start_pages/validators_saved", written)

    # --- start ------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        src = self.source_config
        for url in src.lists:
            yield self._start_request(url, self.parse_list, page=1, kind="list")
        for url in src.feeds:
            yield self._start_request(url, self.parse_feed, kind="feed")
        for url in src.sitemaps:
            yield self._start_request(url, self.parse_sitemap, depth=0, kind="sitemap")
        for request in await self._retry_failed_articles():
            yield request

    async def _retry_failed_articles(self) -> list[scrapy.Request]:
        """Articles that failed on an earlier run, requested by themselves: the page that
        linked to one may not be read this run (its link moved past where pagination
        stops, or the list answers 304), and nothing else would find it again."""
        failed = await self.store.call(self.ledger.failed_articles)
        retries = await self._article_requests(failed, found_on=None)
        self._count("newsmon/articles/retried_failed", len(retries))
        return retries

    def _start_request(self, url: str, callback: Any, **meta: Any) -> scrapy.Request:
        # Start pages are fetched every run; a 304 reaches the callback. A link to one
        # (a sitemap listing the list page) is not fetched again as an article.
        key = self.ledger.key(url)
        if key:
            self._requested.add(key)
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              meta={"newsmon": meta, "handle_httpstatus_list": [NOT_MODIFIED]},
                              dont_filter=True)

    # --- start pages ----------------------------------------------------------------
    async def parse_list(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if await self._not_modified(response):
            return
        src = self.source_config
        content_type = _header(response, "Content-Type")
        links = find_article_links(response.body, response.url, content_type=content_type,
                                   allowed_domains=self.allowed_domains,
                                   pattern=src.article_pattern)
        next_url = find_next_page(response.body, response.url, content_type)
        urls = [link.url for link in links if not link.is_document]
        self._count("newsmon/links_found", len(links))
        self._count("newsmon/links/documents_skipped", len(links) - len(urls))
        self._skip_documents(link.url for link in links if link.is_document)
        await self._after_full_fetch(response, [*urls, *([next_url] if next_url else [])])
        fresh = await self._article_requests(urls, response.url)
        for request in fresh:
            yield request
        page = int(response.meta["newsmon"].get("page", 1))
        if not next_url or page >= src.max_list_pages:
            return
        # Every link on this page is known: older pages hold nothing new, provided a
        # finished crawl read the next page (one killed before it got there did not).
        if fresh or not await self.store.call(self.ledger.read_in_full, next_url):
            yield self._start_request(next_url, self.parse_list, page=page + 1, kind="list")
        else:
            self._count("newsmon/lists/stopped_at_known_page")

    async def parse_feed(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if await self._not_modified(response):
            return
        links = parse_feed(response.body, response.url)
        if not links:
            self._count_error("empty_feed", response.url, "no entries with links")
        urls = [link.url for link in links]
        self._count("newsmon/links_found", len(urls))
        await self._after_full_fetch(response, urls)
        dated = {link.url: {"feed": link.published} for link in links if link.published}
        for request in await self._article_requests(urls, response.url, dated):
            yield request

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if await self._not_modified(response):
            return
        kind, entries = parse_sitemap_entries(response.body)
        urls = [url for url, _ in entries]
        depth = int(response.meta["newsmon"].get("depth", 0))
        if kind == "sitemapindex":
            await self._after_full_fetch(response, urls, kind="sitemapindex")
            if depth >= MAX_SITEMAP_DEPTH:
                self._count_error("sitemap_depth", response.url, "sitemap index nested too deep")
                return
            for url in urls:
                yield self._start_request(url, self.parse_sitemap, depth=depth + 1,
                                          kind="sitemap")
            return
        if kind != "urlset":
            self._count_error("bad_sitemap", response.url, "not a readable sitemap")
            return
        self._count("newsmon/links_found", len(urls))
        await self._after_full_fetch(response, urls)
        dated = {url: {"sitemap": lastmod} for url, lastmod in entries if lastmod}
        for request in await self._article_requests(urls, response.url, dated):
            yield request

    async def _not_modified(self, response: Response) -> bool:
        """Count the page; True when it is a believed 304 (nothing to read)."""
        if response.status != NOT_MODIFIED:
            self._count_page(response)
            return False
        self._count("newsmon/pages/not_modified")
        await self.store.call(self.ledger.start_page_not_modified, response.url,
                              datetime.now(UTC))
        self.logger.debug("%s: not modified %s", self.source_config.name, response.url)
        return True

    async def _after_full_fetch(self, response: Response, links: list[str],
                                kind: str | None = None) -> None:
        """Remember the page's validators and links; check a sampled 304 was honest."""
        meta = response.meta["newsmon"]
        keys = [k for k in (self.ledger.key(u) for u in links) if k]
        if meta.get("verify_304"):
            remembered = await self.store.call(self.ledger.start_page, response.url)
            honest = remembered is not None and remembered.links_digest == links_digest(keys)
            trust = await self.store.call(self.ledger.record_check, response.url,
                                          honest=honest, now=datetime.now(UTC))
            self._count(f"newsmon/conditional/{'honest' if honest else 'dishonest'}")
            if not honest:
                self.logger.warning("%s: %s answered 304 Not Modified but its links changed; "
                                    "its 304s are no longer trusted (%s)",
                                    self.source_config.name, response.url, trust.verdict)
        self.ledger.remember_start_page(
            response.url, kind=kind or str(meta.get("kind")),
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            links=keys, status=response.status)

    def _skip_documents(self, urls: Iterable[str]) -> None:
        """Links to PDFs and the like: linked pages, counted, never fetched."""
        for url in urls:
            key = self.ledger.key(url)
            if key and key not in self._requested:
                self._requested.add(key)
                self._settle_new_link(key, "document")

    def _settle_new_link(self, key: str, outcome: str) -> None:
        if self.outcomes is not None:
            self.outcomes.link(key)
            self.outcomes.settle(key, outcome)

    async def _article_requests(self, urls: Iterable[str], found_on: str | None,
                                date_hints: Mapping[str, dict[str, str]] | None = None
                                ) -> list[scrapy.Request]:
        """Requests for the links neither known to the ledger nor requested this run.

        ``date_hints`` (by URL) travel in the request meta to the extractor: the feed
        entry's or sitemap's date for the page, evidence when the page has none."""
        keyed: dict[str, str] = {}
        for url in urls:
            key = self.ledger.key(url)
            if key and key not in self._requested and key not in keyed:
                keyed[key] = url
        hints = date_hints or {}
        known = await self.store.call(self.ledger.known, list(keyed)) if keyed else set()
        requests = []
        for key in keyed:
            if key in self._requested:
                continue  # another page linked it while the ledger was asked
            if key in known:
                self._requested.add(key)  # linked again this run: one page, counted once
                self._settle_new_link(key, "known")
                self._count("newsmon/articles/skipped_known")
                continue
            if self.outcomes is not None:
                self.outcomes.link(key)
            self._requested.add(key)
            # dont_filter: this spider already requests each canonical URL once per run;
            # Scrapy's filter would also drop redirects back to a seen URL silently, so
            # a redirect loop would never reach REDIRECT_MAX_TIMES and be counted.
            requests.append(scrapy.Request(
                key, callback=self.parse_article, errback=self.on_error,
                meta={"newsmon": {"kind": "article", "found_on": found_on,
                                  "date_hints": hints.get(keyed[key], {}), "key": key}},
                dont_filter=True))
        return requests

    # --- articles -------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        self._count_page(response)
        redirects = tuple(response.meta.get("redirect_urls", ()))
        yield FetchedPage(
            source=self.source_config.name,
            url=response.url,
            body=response.body,
            content_type=_header(response, "Content-Type"),
            fetched_at=datetime.now(UTC),
            timezone=self.source_config.timezone,
            found_on=response.meta["newsmon"].get("found_on"),
            requested_urls=(*redirects, response.request.url if response.request else ""),
            date_hints=_date_hints(response),
            link_key=response.meta["newsmon"].get("key"),
            etag=header_value(_header(response, "ETag"), ETAG_MAX),
            last_modified=header_value(_header(response, "Last-Modified"), LAST_MODIFIED_MAX),
        )

    # --- bookkeeping ----------------------------------------------------------------
    def _count(self, key: str, count: int = 1) -> None:
        if count:
            self.crawler.stats.inc_value(key, count)

    def _count_page(self, response: Response) -> None:
        self._count("newsmon/pages")
        kind = response.meta["newsmon"].get("kind", "page")
        self._count(f"newsmon/pages/{kind}")

    def _count_error(self, kind: str, url: str, detail: str) -> None:
        self._count(f"newsmon/errors/{kind}")
        self.logger.warning("%s: %s %s: %s", self.source_config.name, kind, url, detail)

    async def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind, detail = classify_failure(failure)
        self._count_error(kind, url, detail)
        meta = (request.meta.get("newsmon") or {}) if request is not None else {}
        if meta.get("kind") == "article" and self.outcomes is not None:
            self.outcomes.settle(meta.get("key"), failure_outcome(kind))
        if isinstance(failure.value, GateDropped):
            # A link the gate refuses is no URL of this source: it gets no ledger row
            # and does not cost the page that named it its validators (it would be
            # refused again, without a request, whenever that page is read in full).
            return
        if meta.get("kind") == "article":
            # The URL the link named, not where its redirects ended.
            first = (request.meta.get("redirect_urls") or [url])[0] if request else url
            await self.store.call(self.ledger.record_failure, first,
                                  status=http_status_of(failure), kind=kind,
                                  now=datetime.now(UTC), found_on=meta.get("found_on"))


def _date_hints(response: Response) -> dict[str, str]:
    """The link's feed/sitemap date from the request meta, and ``Last-Modified``."""
    hints = dict(response.meta["newsmon"].get("date_hints") or {})
    last_modified = _header(response, "Last-Modified")
    if last_modified:
        hints["http-last-modified"] = last_modified
    return hints


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _source_from_settings(crawler: Crawler, name: str | None) -> SourceConfig:
    if not name:
        raise ConfigError("give the source to crawl: scrapy crawl news -a source=NAME")
    path = crawler.settings.get("NEWSMON_CONFIG")
    if not path:
        raise ConfigError("set NEWSMON_CONFIG to the sources config file")
    return load_config(Path(path)).source(name)
