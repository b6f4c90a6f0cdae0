"""Crawl extensions: the run ledger and the terminal progress line."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from newsmon.crawler.errors import DATABASE_LOST_STAT
from newsmon.crawler.outcomes import outcome_counts
from newsmon.crawler.store import CrawlStore
from newsmon.storage.articles import ensure_source
from newsmon.storage.engine import database_lost
from newsmon.storage.runs import finish_run, start_run
from newsmon.values import CrawlStats

ERROR_PREFIX = "newsmon/errors/"


def crawl_stats_from(source: str, stats: Mapping[str, Any], finish_reason: str) -> CrawlStats:
    """Fold Scrapy's stats dict into the ledger's :class:`CrawlStats`."""
    errors = {key[len(ERROR_PREFIX):]: int(value) for key, value in stats.items()
              if key.startswith(ERROR_PREFIX)}
    return CrawlStats(
        source=source,
        pages=int(stats.get("newsmon/pages", 0)),
        new_articles=int(stats.get("newsmon/articles/new", 0)),
        updated_articles=int(stats.get("newsmon/articles/updated", 0)),
        unchanged_articles=int(stats.get("newsmon/articles/unchanged", 0))
        + int(stats.get("newsmon/articles/duplicate", 0)),
        errors=errors,
        finish_reason=finish_reason,
        skipped_known=int(stats.get("newsmon/articles/skipped_known", 0)),
        not_modified=int(stats.get("newsmon/pages/not_modified", 0)),
        outcomes=outcome_counts(stats),
        database_error=stats.get(DATABASE_LOST_STAT),
    )


def _source_name(spider: Any) -> str:
    return str(getattr(getattr(spider, "source_config", None), "name", spider.name))


class RunLedger:
    """Writes one ``crawl_runs`` row per source: opened as running, closed with stats.

    A crawl killed before ``spider_closed`` leaves its row as ``running``; the
    scheduler marks such rows interrupted. Written through the crawl's store, on its
    database thread; the store closes after this row is written.
    """

    def __init__(self, store: CrawlStore, stats: StatsCollector) -> None:
        self.store = store
        self.stats = stats
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLedger:
        assert crawler.stats is not None
        ledger = cls(CrawlStore.from_crawler(crawler), crawler.stats)
        crawler.signals.connect(ledger.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ledger.spider_closed, signal=signals.spider_closed)
        return ledger

    async def spider_opened(self, spider: Any) -> None:
        self.run_id = await self.store.call(self._start, _source_name(spider),
                                            datetime.now(UTC))

    def _start(self, source: str, now: datetime) -> int:
        with self.store.database.session() as session, session.begin():
            return start_run(session, ensure_source(session, source), now)

    async def spider_closed(self, spider: Any, reason: str) -> None:
        if self.run_id is None:
            return
        summary = crawl_stats_from(_source_name(spider), self.stats.get_stats(), reason)
        status = "finished" if reason == "finished" else "interrupted"
        try:
            await self.store.call(self._finish, self.run_id, summary, status,
                                  datetime.now(UTC))
        except Exception as exc:
            if database_lost(exc) is None:
                raise  # the lost database is reported once, by `newsmon crawl`

    def _finish(self, run_id: int, summary: CrawlStats, status: str, now: datetime) -> None:
        with self.store.database.session() as session, session.begin():
            finish_run(session, run_id, summary, now, status=status)


class ProgressBoard:
    """One status line for all sources crawled by this process.

    On a terminal it redraws in place; otherwise it prints a line every few seconds
    so logs stay readable.
    """

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.rows: dict[str, CrawlStats] = {}
        self.last_draw = 0.0
        self.interactive = stream.isatty()
        self.interval = 0.2 if self.interactive else 5.0

    def update(self, row: CrawlStats, force: bool = False) -> None:
        self.rows[row.source] = row
        now = time.monotonic()
        if force or now - self.last_draw >= self.interval:
            self.last_draw = now
            self._draw()

    def _draw(self) -> None:
        totals = [r for r in self.rows.values()]
        pages = sum(r.pages for r in totals)
        new = sum(r.new_articles for r in totals)
        errors = sum(r.error_count for r in totals)
        line = (f"crawling {len(totals)} source(s): {pages} pages, {new} new articles, "
                f"{errors} errors")
        if self.interactive:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.interactive and self.rows:
            self.stream.write("\r\033[K")
            self.stream.flush()


# The setting in which ``run_crawl`` hands its crawlers the process's one board.
BOARD_SETTING = "NEWSMON_PROGRESS_BOARD"


class Progress:
    """Feeds the crawl process's :class:`ProgressBoard` (the :data:`BOARD_SETTING`)
    from Scrapy signals; enabled by ``newsmon crawl`` on a terminal."""

    def __init__(self, crawler: Crawler, board: ProgressBoard) -> None:
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.board = board
        self.source = "?"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        board = crawler.settings.get(BOARD_SETTING)
        if not isinstance(board, ProgressBoard):
            raise NotConfigured("no progress board: the crawl was not started by newsmon")
        progress = cls(crawler, board)
        for signal in (signals.response_received, signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(progress.tick, signal=signal)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        return progress

    def spider_opened(self, spider: Any) -> None:
        self.source = _source_name(spider)

    def tick(self, *args: Any, **kwargs: Any) -> None:
        self.board.update(crawl_stats_from(self.source, self.stats.get_stats(), "running"))
