"""Plain value types that travel between the pipeline stages.

Every stage (extract -> clean/normalise -> dedup -> store -> match -> digest) passes
these frozen dataclasses, never ORM rows or Scrapy items, so the pure stages can be
tested with nothing but values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """What the extractor read off one fetched page.

    ``published_at``/``updated_at`` are timezone-aware (site-local zone) or None;
    ``body`` is plain text, one paragraph per line; ``is_article`` is False for list
    pages, indexes and other non-articles, which then carry an empty body.
    """

    url: str
    canonical_url: str
    title: str
    body: str
    published_at: datetime | None = None
    updated_at: datetime | None = None
    # which evidence gave published_at: json-ld, meta, byline, script, url, feed, …
    published_source: str | None = None
    source: str | None = None  # the 来源/來源 outlet or agency named on the page
    author: str | None = None
    editor: str | None = None  # 责编/責編/责任编辑
    tags: tuple[str, ...] = ()
    script: str = "simplified"  # "simplified" | "traditional"
    encoding_declared: str | None = None
    encoding_used: str = "utf-8"
    is_article: bool = True
    warnings: tuple[str, ...] = field(default=())
    # fields cut to their bound (see newsmon.sanitise), e.g. ("title",)
    truncated: tuple[str, ...] = ()

    @property
    def not_article_reason(self) -> str | None:
        """Why the extractor judged the page not an article (its last warning says)."""
        if self.is_article:
            return None
        if not self.warnings:
            return "no article body found"
        reason = self.warnings[-1]
        for where in (f" on {self.url}", f" at {self.url}"):
            reason = reason.removesuffix(where)  # the URL is shown next to it anyway
        return reason


@dataclass(frozen=True, slots=True)
class NormalizedArticle:
    """An extracted article after cleaning and script normalisation, ready to store.

    ``title_norm``/``body_norm`` are the forms matching and search work on;
    ``content_hash`` identifies the normalised content (exact-duplicate detection and
    "did it change?" on re-crawls).
    """

    article: ExtractedArticle
    title_norm: str
    body_norm: str
    content_hash: str
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class CrawlStats:
    """What one crawl of one source did, for the run ledger and the summary."""

    source: str
    pages: int = 0
    new_articles: int = 0
    updated_articles: int = 0
    unchanged_articles: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    finish_reason: str = "finished"
    skipped_known: int = 0  # article links already in the URL ledger, not requested
    not_modified: int = 0  # start pages answered 304 Not Modified and believed
    # What became of each linked page: {outcome: pages} (see crawler/outcomes.py).
    outcomes: dict[str, int] = field(default_factory=dict)
    database_error: str | None = None  # why the database was lost, stopping the crawl

    @property
    def linked_pages(self) -> int:
        return sum(self.outcomes.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True, slots=True)
class NewMatch:
    """A (topic, article) pair the matcher found, for the match ledger; ``is_new``
    flags it for the digests (a backfilled old article is recorded, not flagged)."""

    topic_id: int
    article_id: int
    is_new: bool
    hits: list[dict[str, Any]]
    snippet: str


@dataclass(frozen=True, slots=True)
class PendingMatch:
    """A flagged match as a digest shows it: the article, its story and the evidence.

    ``story_id`` is NULL until same-story detection has run (then the article is a
    story of its own); ``story_origin`` is the original source the story's copies name.
    ``delivered_at`` is set only on matches read back from the delivery ledger.
    """

    match_id: int
    topic: str
    article_id: int
    title: str
    url: str
    source: str | None
    site: str
    published_at: datetime | None
    first_seen: datetime
    snippet: str
    hits: list[dict[str, Any]]
    story_id: int | None = None
    story_origin: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SourceAlert:
    """A source the digest reader should know about.

    ``kind`` is ``failed`` (crawls since the last digest were interrupted or had
    errors), ``not crawled`` (no crawl for longer than the subscription's
    ``silent_after``, or never) or ``silent`` (crawled, but no new article for that
    long). ``crawls`` and ``failed_crawls`` count the crawls since the last digest.
    """

    source: str
    kind: str
    crawls: int = 0
    failed_crawls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    last_crawl: datetime | None = None
    last_new_article: datetime | None = None
