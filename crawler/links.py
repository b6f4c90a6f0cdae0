"""Finding article links on list pages, feeds and sitemaps (pure functions).

The spider only routes requests; what counts as an article link is decided here so
it can be tested on recorded pages without a crawl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
from lxml import etree
from scrapy.utils.sitemap import Sitemap

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d{3,}")
_ARTICLE_SUFFIX = re.compile(r"\.(s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^\s*(下一页|下一頁|下页|下頁|后页|後頁|next\b|›|»|>)\s*$", re.IGNORECASE)
_NAV_PATH = re.compile(r"/(index|list|tag|tags|channel|search|about|contact|login|register)"
                       r"([_./-]|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_allowed(url: str, allowed_domains: Sequence[str]) -> bool:
    """True when ``url`` is on one of ``allowed_domains`` or a subdomain of one."""
    host = _host(url)
    return any(host == d or host.endswith("." + d) for d in (a.lower() for a in allowed_domains))


def _parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _anchors(doc: lxml.html.HtmlElement, base_url: str) -> Iterable[Link]:
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        text = " ".join(anchor.text_content().split()) or (anchor.get("title") or "").strip()
        url = urljoin(base_url, href).split("#", 1)[0]
        if url.startswith(("http://", "https://")):
            yield Link(url, text)


def _looks_like_article(link: Link, page_url: str) -> bool:
    if link.url.rstrip("/") == page_url.rstrip("/"):
        return False
    path = urlsplit(link.url).path
    if _NAV_PATH.search(path):
        return False
    cjk_chars = len(_CJK.findall(link.text))
    long_title = cjk_chars >= 6 or (cjk_chars == 0 and len(link.text) >= 20)
    article_shaped = bool(_DIGITS.search(path)) or bool(_ARTICLE_SUFFIX.search(path))
    return long_title and article_shaped


def find_article_links(html: str | bytes, page_url: str, *,
                       allowed_domains: Sequence[str] = (),
                       pattern: str | None = None) -> list[Link]:
    """Article links on a list page, in page order, without duplicates.

    With ``pattern`` (a regex from the source config) a link is an article iff its
    URL matches; without, the anchor must carry a headline-length text and point at
    an article-shaped URL (digits or a page suffix) that is not a navigation path.
    """
    doc = _parse_html(html)
    if doc is None:
        return []
    regex = re.compile(pattern) if pattern else None
    seen: set[str] = set()
    links: list[Link] = []
    for link in _anchors(doc, page_url):
        if link.url in seen:
            continue
        if allowed_domains and not host_allowed(link.url, allowed_domains):
            continue
        keep = bool(regex.search(link.url)) if regex else _looks_like_article(link, page_url)
        if keep:
            seen.add(link.url)
            links.append(link)
    return links


def find_next_page(html: str | bytes, page_url: str) -> str | None:
    """The URL of the next list page (``rel=next`` or a 下一页/next link), if any."""
    doc = _parse_html(html)
    if doc is None:
        return None
    for element in doc.iter("link", "a"):
        href = str(element.get("href") or "")
        if href and "next" in str(element.get("rel") or "").lower().split():
            return urljoin(page_url, href)
    for link in _anchors(doc, page_url):
        if _NEXT_TEXT.match(link.text) and link.url.rstrip("/") != page_url.rstrip("/"):
            return link.url
    return None


def parse_feed(body: bytes, feed_url: str) -> list[Link]:
    """Entry links of an RSS/Atom feed (feedparser tolerates the usual breakage)."""
    parsed = feedparser.parse(body)
    links: list[Link] = []
    for entry in parsed.entries:
        href = entry.get("link")
        if href:
            links.append(Link(urljoin(feed_url, href), " ".join(entry.get("title", "").split())))
    return links


def parse_sitemap(body: bytes) -> tuple[str, list[str]]:
    """``("urlset" | "sitemapindex", locations)`` of a sitemap; empty if unreadable."""
    try:
        sitemap = Sitemap(body)
    except (etree.XMLSyntaxError, ValueError):
        return "invalid", []
    urls = [entry["loc"].strip() for entry in sitemap if entry.get("loc")]
    return str(sitemap.type), urls
