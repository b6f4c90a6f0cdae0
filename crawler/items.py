"""What the spider hands to the pipelines: one fetched article page, undecoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class FetchedPage:
    """Raw bytes of a page that a list, feed or sitemap pointed at as an article.

    Decoding happens in the extract stage, which sees the bytes and the HTTP
    ``Content-Type`` exactly as the server sent them.
    """

    source: str
    url: str
    body: bytes = field(repr=False)
    content_type: str | None
    fetched_at: datetime
    timezone: str
    found_on: str | None = None
    # Every URL that led here: the one requested and any redirects, then ``url``.
    requested_urls: tuple[str, ...] = ()
    # Dates seen outside the page (feed pubDate, sitemap lastmod, HTTP Last-Modified):
    # the extractor's weakest publish-time evidence.
    date_hints: dict[str, str] = field(default_factory=dict)
    # The canonical URL the page was linked as: its outcome is counted under it.
    link_key: str | None = None
    # The answer's validators (already checked by ``sanitise.header_value``), kept in
    # the URL ledger so the article's first re-visit is a conditional GET.
    etag: str | None = None
    last_modified: str | None = None
