"""Plain value types that travel between the pipeline stages.

Every stage (extract -> clean/normalise -> dedup -> store -> match -> digest) passes
these frozen dataclasses, never ORM rows or Scrapy items, so the pure stages can be
tested with nothing but values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    source: str | None = None  # the 来源/來源 outlet or agency named on the page
    author: str | None = None
    editor: str | None = None  # 责编/責編/责任编辑
    tags: tuple[str, ...] = ()
    script: str = "simplified"  # "simplified" | "traditional"
    encoding_declared: str | None = None
    encoding_used: str = "utf-8"
    is_article: bool = True
    warnings: tuple[str, ...] = field(default=())
