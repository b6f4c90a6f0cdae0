"""Downloader middlewares: conditional GETs that are checked before they are
trusted, and retries that back off and honour ``Retry-After``.

**Conditional GET.** Start pages (lists, feeds, sitemaps) are fetched every run. When
the URL ledger holds validators from the last full answer, the request carries
``If-None-Match`` / ``If-Modified-Since``. A ``304 Not Modified`` is believed only
once the site has shown that its 304s are honest: until then (and again after every
:data:`RECHECK_EVERY` believed 304s) the page is fetched again in full, and the spider
compares the links it leads to with the ones the ledger remembers. Equal links make
the site honest; different links make it dishonest for good, and it gets no more
conditional requests. Trust is kept per source and origin (``scheme://host:port``).

**Retries.** Scrapy's retry middleware retries at once; this one waits first:
``Retry-After`` when the server sends one (seconds or an HTTP date, capped at
``RETRY_AFTER_MAX``; a longer wait gives up until the next run), otherwise an
exponential backoff from ``RETRY_BACKOFF_BASE`` doubling up to ``RETRY_BACKOFF_MAX``.
The wait does not block the crawl: other requests proceed meanwhile.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message

from newsmon.crawler.store import CrawlStore
from newsmon.retryafter import retry_after_seconds
from newsmon.storage.urls import Verdict

log = logging.getLogger(__name__)

START_KINDS = frozenset({"list", "feed", "sitemap"})
# A believed 304 is checked by a full fetch again after this many.
RECHECK_EVERY = 20


def retry_delay(retry_after: str | None, attempt: int, now: datetime, *,
                base: float, cap: float, retry_after_max: float) -> float | None:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    ``Retry-After`` wins when it parses (delta-seconds or an HTTP date, relative to
    ``now``); it is ``None`` — do not retry now — when the server asks for longer
    than ``retry_after_max``. Otherwise ``base * 2**(attempt-1)``, at most ``cap``.
    """
    asked = retry_after_seconds(retry_after, now)
    if asked is not None:
        return None if asked > retry_after_max else asked
    return min(cap, base * 2.0 ** max(attempt - 1, 0))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry rules (``RETRY_TIMES``, ``RETRY_HTTP_CODES``, exceptions) with a
    wait before each retry (see the module docstring)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 30.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 60.0)

    def _stats(self) -> StatsCollector | None:
        return getattr(getattr(self, "crawler", None), "stats", None)

    def _attempt(self, request: Request) -> int | None:
        """The number of the coming retry, or None when the budget is spent."""
        attempt = int(request.meta.get("retry_times", 0)) + 1
        limit = int(request.meta.get("max_retry_times", self.max_retry_times))
        return attempt if attempt <= limit else None

    async def process_response(self, request: Request, response: Response,  # type: ignore[override]
                               spider: Any = None) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        attempt = self._attempt(request)
        if attempt is None:
            return self._retry(request, response_status_message(response.status)) or response
        header = response.headers.get("Retry-After")
        delay = retry_delay(header.decode("latin-1") if header else None, attempt,
                            datetime.now(UTC), base=self.base, cap=self.cap,
                            retry_after_max=self.retry_after_max)
        stats = self._stats()
        if delay is None:
            if stats is not None:
                stats.inc_value("newsmon/retry/retry_after_too_long")
            log.warning("not retrying %s now: Retry-After %s is longer than %.0f s",
                        request.url, header, self.retry_after_max)
            return response
        if stats is not None:
            stats.inc_value("newsmon/retry/waited_seconds", round(delay))
        await sleep(delay)
        return self._retry(request, response_status_message(response.status)) or response

    async def process_exception(self, request: Request, exception: Exception,  # type: ignore[override]
                                spider: Any = None) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get(
                "dont_retry", False):
            return None
        attempt = self._attempt(request)
        if attempt is not None:
            await sleep(retry_delay(None, attempt, datetime.now(UTC), base=self.base,
                                    cap=self.cap, retry_after_max=self.retry_after_max) or 0)
        return self._retry(request, exception)


class ConditionalGetMiddleware:
    """Validators on start-page requests; a 304 believed only from an honest site.

    The URL ledger is asked on the crawl's database thread (``crawler.store``)."""

    def __init__(self, crawler: Crawler, store: CrawlStore) -> None:
        self.crawler = crawler
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        return cls(crawler, CrawlStore.from_crawler(crawler))

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    async def process_request(self, request: Request) -> None:
        meta = request.meta.get("newsmon") or {}
        ledger = self.store.ledger
        if ledger is None or meta.get("kind") not in START_KINDS or meta.get("full_fetch"):
            return None
        page = await self.store.call(ledger.start_page, request.url)
        if page is None or not (page.etag or page.last_modified) or page.kind == "sitemapindex":
            return None
        trust = await self.store.call(ledger.trust, request.url)
        if trust.verdict is Verdict.DISHONEST:
            self._inc("newsmon/conditional/skipped_dishonest")
            return None
        if page.etag:
            request.headers["If-None-Match"] = page.etag
        if page.last_modified:
            request.headers["If-Modified-Since"] = page.last_modified
        request.meta["newsmon"] = {**meta, "conditional": True}
        self._inc("newsmon/conditional/sent")
        return None

    async def process_response(self, request: Request, response: Response
                               ) -> Request | Response:
        meta = request.meta.get("newsmon") or {}
        ledger = self.store.ledger
        if response.status != 304 or not meta.get("conditional") or ledger is None:
            return response
        trust = await self.store.call(ledger.trust, request.url)
        if trust.verdict is Verdict.HONEST and trust.trusted_304s < RECHECK_EVERY:
            await self.store.call(ledger.record_trusted_304, request.url)
            self._inc("newsmon/conditional/not_modified")
            return response
        # Unproven, or due for a check: fetch in full and let the spider compare.
        self._inc("newsmon/conditional/sampled")
        headers = request.headers.copy()
        for name in ("If-None-Match", "If-Modified-Since"):
            headers.pop(name, None)
        new_meta = {key: value for key, value in request.meta.items() if key != "newsmon"}
        new_meta["newsmon"] = {**meta, "conditional": False, "full_fetch": True,
                               "verify_304": True}
        return request.replace(headers=headers, meta=new_meta, dont_filter=True)
