"""Finding article links on list pages, feeds and sitemaps (pure functions).

The spider only routes requests; what counts as an article link is decided here so
it can be tested on recorded pages without a crawl. Without a per-source pattern an
anchor is an article link when

* its text reads like a headline (>= 6 CJK characters, or >= 20 Latin characters);
  short anchor text falls back to the ``title`` attribute or an image's ``alt``;
* its URL looks like a page of its own: a run of >= 3 digits or a page suffix
  (``.html``, ``.shtml``, ``.php`` …) in the path, or a long slug;
* its URL is not a front page, navigation, channel, tag, search, account or
  advertisement path.

The same page linked twice (headline and image, list and sidebar, with and without
tracking parameters) is one link, keeping the longest text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml.html import HtmlElement
from scrapy.utils.sitemap import Sitemap

from newsmon.crawler.canonical import UrlError, canonicalize
from newsmon.crawler.extract.decode import decode_html
from newsmon.crawler.extract.dom import parse_html

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_DIGITS = re.compile(r"\d{3,}")
_LONG_ID = re.compile(r"\d{5,}")
_DOCUMENT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|zip|rar|7z|jpe?g|png|gif|mp[34]|apk|exe)$",
                       re.IGNORECASE)
_PAGE_SUFFIX = re.compile(r"\.(s?html?|php|aspx?|jspx?|cms|do)$", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^\s*(下一页|下一頁|下页|下頁|后页|後頁|next( page)?|›|»|>)\s*$",
                        re.IGNORECASE)
# Path segments of pages that are never a single article.
_NAV_SEGMENT = re.compile(
    r"^(index|default|home|list|lists|tag|tags|topic|topics|channel|channels|column|category|"
    r"categories|section|search|about|aboutus|contact|contactus|login|logon|signin|signup|"
    r"register|reg|user|users|member|members|account|my|help|faq|rss|feed|feeds|sitemap|"
    r"ads?|adv|advert|advertise|adclick|click|redirect|go|jump|special|zt|author)"
    r"([_.-][\w.-]*)?$", re.IGNORECASE)
# A whole-path front page: "/", "/news/", "/index.html".
_FRONT = re.compile(r"^/?([\w-]+/)*((index|default|home)([_.-]\d+)?\.\w+)?$", re.IGNORECASE)
_SLUG_WORDS = re.compile(r"[\w%]+(?:-[\w%]+){3,}")  # "some-long-article-slug"
_AD_HOST = re.compile(r"(^|\.)(ad|ads|adx|click|dsp|union|cpro|pos)\.", re.IGNORECASE)
MIN_CJK_TITLE = 6
MIN_LATIN_TITLE = 20


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str
    published: str | None = None  # a feed entry's published/updated date, as written

    @property
    def is_document(self) -> bool:
        """An attachment (PDF, Office file, archive, image) rather than a web page.

        Announcement lists link their items as PDFs; they are list items all the
        same, but the crawl skips them because the extractor reads HTML.
        """
        return is_document(self.url)


def is_document(url: str) -> bool:
    return bool(_DOCUMENT.search(urlsplit(url).path))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_allowed(url: str, allowed_domains: Sequence[str]) -> bool:
    """True when ``url`` is on one of ``allowed_domains`` or a subdomain of one."""
    host = _host(url)
    return any(host == d or host.endswith("." + d) for d in (a.lower() for a in allowed_domains))


def parse_page(page: str | bytes, content_type: str | None = None) -> HtmlElement:
    """A parsed document; bytes are decoded the way the extractor decodes them."""
    text = decode_html(page, content_type).text if isinstance(page, bytes) else page
    return parse_html(text)


def _anchor_text(anchor: HtmlElement) -> str:
    text = " ".join(anchor.text_content().replace("\ufeff", "").split())
    if headline_like(text):
        return text
    alternatives = [anchor.get("title") or ""]
    alternatives += [img.get("alt") or "" for img in anchor.iter("img")]
    for alt in alternatives:
        alt = " ".join(alt.replace("\ufeff", "").split())
        if headline_like(alt):
            return alt
    return text


def _anchors(doc: HtmlElement, base_url: str) -> Iterator[Link]:
    base = _document_base(doc, base_url)
    for anchor in doc.iter("a", "area"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            url = urljoin(base, href).split("#", 1)[0]
        except ValueError:
            continue
        if url.startswith(("http://", "https://")):
            yield Link(url, _anchor_text(anchor))


def _document_base(doc: HtmlElement, page_url: str) -> str:
    for base in doc.iter("base"):
        href = (base.get("href") or "").strip()
        if href.startswith(("http://", "https://", "/")):
            return str(urljoin(page_url, href))
    return page_url


def headline_like(text: str) -> bool:
    """Long enough to be a headline rather than a menu entry or a "more" link."""
    cjk = len(_CJK.findall(text))
    if cjk >= MIN_CJK_TITLE:
        return True
    return cjk == 0 and len(text) >= MIN_LATIN_TITLE and len(_LATIN_WORD.findall(text)) >= 3


def article_shaped(url: str) -> bool:
    """Does the URL look like one page of content rather than a section or a service?"""
    parts = urlsplit(url)
    if _AD_HOST.search(parts.hostname or ""):
        return False
    path = parts.path
    segments = [s for s in path.split("/") if s]
    # "index.php?id=123" is how phpcms and friends serve articles: a script named like
    # a front page, selected by a numeric query.
    scripted = bool(segments) and bool(_DIGITS.search(parts.query))
    checked = segments[:-1] if scripted else segments
    for index, segment in enumerate(checked):
        # "/tag/12.htm" is a tag page, but "/upload/user/1/2020-7-2/195400974278.html"
        # is one item: a long id after the segment makes it a page of its own.
        if _NAV_SEGMENT.match(segment) and not _LONG_ID.search("/".join(segments[index + 1:])):
            return False
    if _FRONT.match(path) and not _DIGITS.search(path + parts.query):
        return False
    last = segments[-1] if segments else ""
    return bool(_DIGITS.search(path) or _DIGITS.search(parts.query)
                or _PAGE_SUFFIX.search(last) or _SLUG_WORDS.fullmatch(last))


def is_article_link(link: Link, page_url: str) -> bool:
    """The generic rule (see the module docstring)."""
    if link.url.rstrip("/") == page_url.rstrip("/"):
        return False
    return headline_like(link.text) and article_shaped(link.url)


def article_anchors(page: str | bytes, page_url: str, *,
                    content_type: str | None = None,
                    allowed_domains: Sequence[str] = (),
                    pattern: str | re.Pattern[str] | None = None) -> list[Link]:
    """Every anchor on a list page that links an article, in page order, repeats kept.

    With ``pattern`` (a regex from the source config) a link is an article iff its
    URL matches; otherwise :func:`is_article_link` decides.
    """
    doc = parse_page(page, content_type)
    regex = re.compile(pattern) if pattern else None
    found: list[Link] = []
    for link in _anchors(doc, page_url):
        if allowed_domains and not host_allowed(link.url, allowed_domains):
            continue
        if regex.search(link.url) if regex else is_article_link(link, page_url):
            found.append(link)
    return found


def find_article_links(page: str | bytes, page_url: str, *,
                       content_type: str | None = None,
                       allowed_domains: Sequence[str] = (),
                       pattern: str | re.Pattern[str] | None = None) -> list[Link]:
    """Article links on a list page, in page order, one per page.

    Links are deduplicated by their canonical URL (tracking parameters and fragments
    ignored); the text kept is the first headline-like one (the headline usually
    comes before the teaser that links the same page).
    """
    order: dict[str, Link] = {}
    for link in article_anchors(page, page_url, content_type=content_type,
                                allowed_domains=allowed_domains, pattern=pattern):
        try:
            key = canonicalize(link.url)
        except UrlError:
            continue
        seen = order.get(key)
        if seen is None:
            order[key] = link
        elif not headline_like(seen.text) and len(link.text) > len(seen.text):
            order[key] = Link(seen.url, link.text)
    return list(order.values())


def find_next_page(page: str | bytes, page_url: str,
                   content_type: str | None = None) -> str | None:
    """The URL of the next list page (``rel=next`` or a 下一页/next link), if any."""
    doc = parse_page(page, content_type)
    for element in doc.iter("link", "a"):
        href = str(element.get("href") or "")
        if href and "next" in str(element.get("rel") or "").lower().split():
            return urljoin(page_url, href)
    for link in _anchors(doc, page_url):
        if _NEXT_TEXT.match(link.text) and link.url.rstrip("/") != page_url.rstrip("/"):
            return link.url
    return None


_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
               "application/json", "application/xml", "text/xml")


def find_feed_links(page: str | bytes, page_url: str,
                    content_type: str | None = None) -> list[str]:
    """Feeds a page announces with ``<link rel="alternate" type="application/rss+xml">``."""
    doc = parse_page(page, content_type)
    found: list[str] = []
    for element in doc.iter("link"):
        rel = str(element.get("rel") or "").lower().split()
        kind = str(element.get("type") or "").lower().split(";")[0].strip()
        href = str(element.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            url = urljoin(page_url, href)
            if url.startswith(("http://", "https://")) and url not in found:
                found.append(url)
    return found


def robots_sitemaps(robots_txt: str, robots_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, in file order."""
    found: list[str] = []
    for line in robots_txt.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            url = urljoin(robots_url, value.strip())
            if url not in found:
                found.append(url)
    return found


def parse_feed(body: bytes, feed_url: str) -> list[Link]:
    """Entry links of an RSS/Atom feed (feedparser tolerates the usual breakage) or of
    a JSON Feed."""
    if body.lstrip()[:1] == b"{":
        return _parse_json_feed(body, feed_url)
    parsed = feedparser.parse(body)
    links: list[Link] = []
    for entry in parsed.entries:
        href = entry.get("link")
        if href:
            when = entry.get("published") or entry.get("updated")
            links.append(Link(urljoin(feed_url, href), " ".join(entry.get("title", "").split()),
                              when if isinstance(when, str) else None))
    return links


def _parse_json_feed(body: bytes, feed_url: str) -> list[Link]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    items = data.get("items") if isinstance(data, dict) else None
    links: list[Link] = []
    for item in items if isinstance(items, list) else []:
        href = item.get("url") or item.get("external_url") if isinstance(item, dict) else None
        if isinstance(href, str) and href.strip():
            title = item.get("title") if isinstance(item.get("title"), str) else ""
            links.append(Link(urljoin(feed_url, href.strip()), " ".join(title.split())))
    return links


def parse_sitemap(body: bytes) -> tuple[str, list[str]]:
    """``("urlset" | "sitemapindex", locations)`` of a sitemap; ``"invalid"`` if unreadable."""
    kind, entries = parse_sitemap_entries(body)
    return kind, [url for url, _ in entries]


def parse_sitemap_entries(body: bytes) -> tuple[str, list[tuple[str, str | None]]]:
    """Like :func:`parse_sitemap`, with each location's ``lastmod`` (None if absent)."""
    try:
        sitemap = Sitemap(body)
    except Exception:  # lxml raises several unrelated types on garbage; all mean "not a sitemap"
        return "invalid", []
    entries = [(entry["loc"].strip(), (entry.get("lastmod") or "").strip() or None)
               for entry in sitemap if entry.get("loc")]
    if sitemap.type not in ("urlset", "sitemapindex"):
        return "invalid", []
    return str(sitemap.type), entries


@dataclass(frozen=True, slots=True)
class ListPageScore:
    """How link discovery did on a list page whose items are known.

    ``items`` counts the article anchors found (a page listing one article in two
    rank tables lists it twice, as the labels count it); ``first_found`` says whether
    the labelled first item's title is among the link texts. The page passes when the
    first item is found (if labelled) and at least ``share`` of the expected items.
    """

    items: int
    links: int
    expected_items: int | None
    first_item: str | None
    first_found: bool
    share: float = 0.9

    @property
    def passed(self) -> bool:
        enough = self.expected_items is None or self.items >= self.share * self.expected_items
        return enough and (self.first_item is None or self.first_found)


_SPACE = re.compile(r"[\s\ufeff]+")


def score_list_page(page: str | bytes, page_url: str, *, expected_items: int | None,
                    first_item: str | None, share: float = 0.9) -> ListPageScore:
    """Score :func:`article_anchors` / :func:`find_article_links` on a labelled page."""
    anchors = article_anchors(page, page_url)
    links = find_article_links(page, page_url)
    wanted = _SPACE.sub("", first_item) if first_item else None
    found = wanted is not None and any(wanted in _SPACE.sub("", link.text) for link in links)
    return ListPageScore(len(anchors), len(links), expected_items, first_item, found, share)
