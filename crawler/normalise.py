"""The normalise stage's work (pure): canonical URL, script-normalised text, content hash.

Kept free of Scrapy so worker processes (``crawler.workers``) can run it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from newsmon.crawler.canonical import UrlError, article_canonical
from newsmon.crawler.items import FetchedPage
from newsmon.sanitise import URL_MAX
from newsmon.textnorm import normalize
from newsmon.values import ExtractedArticle, NormalizedArticle


def content_hash(title_norm: str, body_norm: str) -> str:
    """Identity of an article's normalised content (changes when the text changes)."""
    return hashlib.sha256(f"{title_norm}\n{body_norm}".encode()).hexdigest()


def normalize_article(article: ExtractedArticle, page: FetchedPage,
                      host_aliases: dict[str, str] | None = None) -> NormalizedArticle:
    """Canonical URL (see ``crawler.canonical``) and script-normalised text."""
    declared = article.canonical_url if article.canonical_url != article.url else None
    try:
        canonical = article_canonical(page.url, declared, host_aliases)
    except UrlError:
        canonical = article.canonical_url
    if len(canonical) > URL_MAX:  # canonicalising can lengthen a URL (percent-encoding)
        canonical = article.canonical_url
    article = replace(article, canonical_url=canonical)
    title_norm = normalize(article.title)
    body_norm = normalize(article.body)
    return NormalizedArticle(article=article, title_norm=title_norm, body_norm=body_norm,
                             content_hash=content_hash(title_norm, body_norm),
                             fetched_at=page.fetched_at)
