"""Crawl and match: what ``newsmon crawl``, and so every scheduled crawl, does.

The sources are crawled in this process (the Twisted reactor cannot be restarted: a
caller that crawls more than once runs each crawl in a child), then the new articles
are matched against the topics. A crawl that was stopped, or lost its database, leaves
matching to the next one, so a stop is not held up by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from newsmon.app.matching import MatchRunStats, match_pending
from newsmon.config import Config, SourceConfig
from newsmon.crawler.runner import CrawlInterrupted, run_crawl
from newsmon.jobresult import CrawlResult
from newsmon.storage.engine import Database
from newsmon.values import CrawlStats


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """How a crawl went: per source, the totals, and why topics were not matched:
    the signal that stopped the crawl (its runs are then ``interrupted``), or how the
    database failed during it."""

    sources: tuple[CrawlStats, ...]
    totals: CrawlResult
    stop_signal: int | None = None
    database_error: str | None = None


def crawl_and_match(config: Config, database: Database, sources: Sequence[SourceConfig], *,
                    progress: bool = False, verbosity: int = 0) -> CrawlOutcome:
    """Crawl ``sources`` into ``database``, then match the new articles.

    Raises :class:`~newsmon.storage.engine.DatabaseError` before fetching anything
    when the database cannot be written, rather than after every page was fetched.
    """
    database.check_writable()
    try:
        results = run_crawl(config, database.url, sources, progress=progress,
                            verbosity=verbosity)
    except CrawlInterrupted as stop:
        return CrawlOutcome(tuple(stop.results), _totals(stop.results, None),
                            stop_signal=stop.signum)
    lost = next((r.database_error for r in results if r.database_error), None)
    if lost is not None:
        return CrawlOutcome(tuple(results), _totals(results, None, "database unavailable"),
                            database_error=lost)
    matched = match_pending(database, datetime.now(UTC), config.settings.backfill_window)
    return CrawlOutcome(tuple(results), _totals(results, matched))


def _totals(results: Sequence[CrawlStats], matched: MatchRunStats | None,
            stopped_by: str = "interrupted") -> CrawlResult:
    """The crawl's totals; ``matched`` None: topics were not matched (``stopped_by``)."""
    return CrawlResult(pages=sum(r.pages for r in results),
                       new_articles=sum(r.new_articles for r in results),
                       errors=sum(r.error_count for r in results),
                       skipped_known=sum(r.skipped_known for r in results),
                       new_matches=None if matched is None else matched.new_matches,
                       flagged=0 if matched is None else matched.flagged,
                       stopped_by=stopped_by)
