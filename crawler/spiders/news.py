"""The one spider: crawls a configured source's list pages, feeds and sitemaps.

It only routes requests. Which links are articles is decided in ``crawler.links``;
what an article says is decided by the pipelines. Every failed request is counted
under ``newsmon/errors/<kind>`` and logged with its URL; the crawl goes on.

Run by ``newsmon crawl`` or directly: ``scrapy crawl news -a source=NAME`` (config
from ``NEWSMON_CONFIG``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.errors import classify_failure
from crawler.items import FetchedPage
from crawler.links import find_article_links, find_next_page, parse_feed, parse_sitemap
from newsmon.config import ConfigError, SourceConfig, load_config

MAX_SITEMAP_DEPTH = 3


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source_config: SourceConfig, **kwargs: Any) -> None:
        super().__init__(name=f"news:{source_config.name}", **kwargs)
        self.source_config = source_config
        self.allowed_domains = list(source_config.allowed_domains) or sorted(
            {urlsplit(u).hostname or "" for u in source_config.start_urls} - {""})

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        if "source_config" not in kwargs:
            kwargs["source_config"] = _source_from_settings(crawler, kwargs.pop("source", None))
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        return spider

    # --- start ------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self._start_requests():
            yield request

    def _start_requests(self) -> Iterator[scrapy.Request]:
        src = self.source_config
        for url in src.lists:
            yield self._request(url, self.parse_list, page=1, kind="list")
        for url in src.feeds:
            yield self._request(url, self.parse_feed, kind="feed")
        for url in src.sitemaps:
            yield self._request(url, self.parse_sitemap, depth=0, kind="sitemap")

    def _request(self, url: str, callback: Any, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              meta={"newsmon": meta}, dont_filter=meta.get("kind") != "article")

    # --- start pages ----------------------------------------------------------------
    def parse_list(self, response: Response) -> Iterator[scrapy.Request]:
        self._count_page(response)
        src = self.source_config
        links = find_article_links(response.body, response.url,
                                   allowed_domains=self.allowed_domains,
                                   pattern=src.article_pattern)
        self.crawler.stats.inc_value("newsmon/links_found", len(links))
        yield from self._article_requests((link.url for link in links), response.url)
        page = response.meta["newsmon"].get("page", 1)
        next_url = find_next_page(response.body, response.url)
        if next_url and page < src.max_list_pages:
            yield self._request(next_url, self.parse_list, page=page + 1, kind="list")

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        self._count_page(response)
        links = parse_feed(response.body, response.url)
        if not links:
            self._count_error("empty_feed", response.url, "no entries with links")
        self.crawler.stats.inc_value("newsmon/links_found", len(links))
        yield from self._article_requests((link.url for link in links), response.url)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        self._count_page(response)
        kind, urls = parse_sitemap(response.body)
        depth = response.meta["newsmon"].get("depth", 0)
        if kind == "sitemapindex":
            if depth >= MAX_SITEMAP_DEPTH:
                self._count_error("sitemap_depth", response.url, "sitemap index nested too deep")
                return
            for url in urls:
                yield self._request(url, self.parse_sitemap, depth=depth + 1, kind="sitemap")
            return
        if kind != "urlset":
            self._count_error("bad_sitemap", response.url, "not a readable sitemap")
            return
        self.crawler.stats.inc_value("newsmon/links_found", len(urls))
        yield from self._article_requests(urls, response.url)

    def _article_requests(self, urls: Any, found_on: str) -> Iterator[scrapy.Request]:
        for url in urls:
            request = self._request(url, self.parse_article, kind="article", found_on=found_on)
            yield request

    # --- articles -------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        self._count_page(response)
        content_type = _header(response, "Content-Type")
        if content_type and not _is_html(content_type):
            self._count_error("not_html", response.url, f"Content-Type {content_type}")
            return
        yield FetchedPage(
            source=self.source_config.name,
            url=response.url,
            body=response.body,
            content_type=content_type,
            fetched_at=datetime.now(UTC),
            timezone=self.source_config.timezone,
            found_on=response.meta["newsmon"].get("found_on"),
        )

    # --- bookkeeping ----------------------------------------------------------------
    def _count_page(self, response: Response) -> None:
        self.crawler.stats.inc_value("newsmon/pages")
        kind = response.meta["newsmon"].get("kind", "page")
        self.crawler.stats.inc_value(f"newsmon/pages/{kind}")

    def _count_error(self, kind: str, url: str, detail: str) -> None:
        self.crawler.stats.inc_value(f"newsmon/errors/{kind}")
        self.logger.warning("%s: %s %s: %s", self.source_config.name, kind, url, detail)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind, detail = classify_failure(failure)
        self._count_error(kind, url, detail)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _is_html(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in {"text/html", "application/xhtml+xml", "text/plain", ""} or (
        mime.startswith("text/"))


def _source_from_settings(crawler: Crawler, name: str | None) -> SourceConfig:
    if not name:
        raise ConfigError("give the source to crawl: scrapy crawl news -a source=NAME")
    path = crawler.settings.get("NEWSMON_CONFIG")
    if not path:
        raise ConfigError("set NEWSMON_CONFIG to the sources config file")
    return load_config(Path(path)).source(name)
