"""Machine-readable metadata: ``<meta>`` tags, JSON-LD and the canonical link.

Read before cleaning (cleaning drops ``<head>`` and scripts). Every value is a plain
string; the caller decides how much to trust each one.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from newsmon.crawler.canonical import resolve_declared

_ARTICLE_TYPES = ("article", "newsarticle", "blogposting", "reportagenewsarticle",
                  "webpage", "analysisnewsarticle", "socialmediaposting", "report")


@dataclass
class PageMeta:
    """What the page says about itself in markup, all optional."""

    document_title: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # lower-cased name/property -> content
    ld_headline: str | None = None
    ld_published: str | None = None
    ld_modified: str | None = None
    ld_authors: list[str] = field(default_factory=list)
    ld_publisher: str | None = None
    ld_keywords: list[str] = field(default_factory=list)
    ld_type: str | None = None
    ld_body: str | None = None  # JSON-LD/microdata articleBody, paragraphs split by newlines
    state_body: str | None = None  # the article text a script-rendered page ships as JSON
    canonical: str | None = None
    time_elements: list[str] = field(default_factory=list)  # <time datetime>/pubdate values
    script_published: str | None = None  # a publish time set in an inline script

    def first(self, *names: str) -> str | None:
        """The first non-empty meta value among ``names``."""
        for name in names:
            value = self.meta.get(name)
            if value and value.strip():
                return value.strip()
        return None


def read_meta(root: HtmlElement, url: str) -> PageMeta:
    """Collect title, meta tags, JSON-LD and canonical URL from the raw tree."""
    page = PageMeta()
    title_el = root.find(".//title")
    if title_el is not None:
        page.document_title = " ".join((title_el.text_content() or "").split())
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and key not in page.meta:
            page.meta[key] = " ".join(content.split())
        itemprop = (el.get("itemprop") or "").strip().lower()
        if itemprop and content and itemprop not in page.meta:
            page.meta[itemprop] = " ".join(content.split())
    for el in root.iter("script"):
        if (el.get("type") or "").strip().lower() == "application/ld+json" and el.text:
            _read_json_ld(page, el.text)
        elif el.text and page.state_body is None and (
                el.get("id") == "__NEXT_DATA__" or _STATE_MARK.search(el.text[:300])):
            page.state_body = _state_body(el.get("id") or "", el.text)
        elif el.text and page.script_published is None and not el.get("src"):
            found = _SCRIPT_PUBLISHED.search(el.text)
            page.script_published = found.group(1) if found else None
    _read_microdata(root, page)
    for el in root.iter("time"):
        value = el.get("datetime") or el.get("pubdate")
        if value:
            page.time_elements.append(value)
    page.canonical = _canonical(root, page, url)
    return page


# Pages rendered by script keep their metadata in JS: "pubtime": "2019-09-07 19:02:26",
# var publishTime = '…', ejValue['publishDateTime']="…". The first such value is the
# page's own (lists come later).
_SCRIPT_PUBLISHED = re.compile(
    r"""["']?\b(?:pub_?time|pub_?date|publish_?date_?time|publish_?time|publish_?date|"""
    r"""date_?published|published_?at|publish_?at)["']?\]?\s*[:=]\s*["']"""
    r"""(\d{4}-\d{1,2}-\d{1,2}"""
    r"""(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?)["']""",
    re.IGNORECASE)


def _canonical(root: HtmlElement, page: PageMeta, url: str) -> str | None:
    for el in root.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        href = (el.get("href") or "").strip()
        if "canonical" in rel and href:
            return resolve_declared(url, href)
    og_url = page.first("og:url")
    return resolve_declared(url, og_url) if og_url else None


def _read_json_ld(page: PageMeta, text: str) -> None:
    try:
        data = json.loads(text.strip().rstrip(";"))
    except (ValueError, RecursionError):
        return
    for item in _ld_items(data):
        kind = item.get("@type")
        kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
        if not any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
            continue
        page.ld_type = page.ld_type or str(kinds[0])
        page.ld_headline = page.ld_headline or _as_text(item.get("headline"))
        page.ld_body = page.ld_body or _body_text(item.get("articleBody"))
        page.ld_published = page.ld_published or _as_text(item.get("datePublished"))
        page.ld_modified = page.ld_modified or _as_text(item.get("dateModified"))
        if not page.ld_authors:
            page.ld_authors = _names(item.get("author"))
        if page.ld_publisher is None:
            publishers = _names(item.get("publisher"))
            page.ld_publisher = publishers[0] if publishers else None
        if not page.ld_keywords:
            keywords = item.get("keywords")
            if isinstance(keywords, str):
                page.ld_keywords = [k.strip() for k in keywords.split(",") if k.strip()]
            elif isinstance(keywords, list):
                page.ld_keywords = [str(k).strip() for k in keywords if str(k).strip()]


def _ld_items(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for entry in data:
            yield from _ld_items(entry, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _ld_items(graph, depth + 1)


def _as_text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    if isinstance(value, list) and value:
        return _as_text(value[0])
    return None


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict):
        name = value.get("name")
        return [name.strip()] if isinstance(name, str) and name.strip() else []
    if isinstance(value, list):
        out: list[str] = []
        for entry in value:
            out.extend(_names(entry))
        return out
    return []


def _read_microdata(root: HtmlElement, page: PageMeta) -> None:
    """schema.org microdata headline and author on visible elements (non-meta tags)."""
    for el in root.iterfind(".//*[@itemprop]"):
        prop = (el.get("itemprop") or "").strip().lower()
        # articleBody is left to the DOM reader: as an element it holds captions and
        # furniture that the block scorer drops and a plain text copy would keep
        if el.tag == "meta" or prop not in ("headline", "author"):
            continue
        if prop == "headline" and page.ld_headline is None:
            page.ld_headline = _as_text(el.text_content())
        elif prop == "author" and not page.ld_authors:
            named = el.find(".//*[@itemprop='name']")
            text = (named if named is not None else el).text_content()
            page.ld_authors = [" ".join(text.split())] if text and text.strip() else []


# Script-rendered pages ship their state: <script id="__NEXT_DATA__">{…}</script>,
# window.__INITIAL_STATE__ = {…}; window.__NUXT__, __PRELOADED_STATE__, __APOLLO_STATE__.
_STATE_MARK = re.compile(r"__NEXT_DATA__|__INITIAL_STATE__|__PRELOADED_STATE__|__APOLLO_STATE__|"
                         r"__INITIAL_DATA__")
_STATE_ASSIGN = re.compile(r"^\s*(?:window\.)?__[A-Z_]+__\s*=\s*")
_STATE_BODY_KEYS = frozenset({"articlebody", "content", "body", "text", "contenthtml",
                              "bodyhtml", "articlecontent", "html"})
_STATE_MIN_CHARS = 120  # shorter strings are teasers and summaries, not an article
_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|blockquote)>|<br\s*/?>", re.IGNORECASE)


def _state_body(script_id: str, text: str) -> str | None:
    """The longest article-text string in an embedded state object, as plain text."""
    source = text.strip()
    if script_id != "__NEXT_DATA__":
        source = _STATE_ASSIGN.sub("", source, count=1).rstrip().rstrip(";")
    try:
        data = json.loads(source)
    except (ValueError, RecursionError):
        return None
    best = max(_state_strings(data, 0), key=len, default="")
    return _body_text(best) if len(best) >= _STATE_MIN_CHARS else None


def _state_strings(data: Any, depth: int) -> Iterator[str]:
    if depth > 12:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and str(key).lower() in _STATE_BODY_KEYS:
                yield value
            elif isinstance(value, (dict, list)):
                yield from _state_strings(value, depth + 1)
    elif isinstance(data, list):
        for entry in data:
            yield from _state_strings(entry, depth + 1)


def _body_text(value: Any) -> str | None:
    """Plain paragraphs from an articleBody: tags dropped, block ends kept as newlines."""
    if isinstance(value, list):
        value = "\n".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str) or not value.strip():
        return None
    text = _TAG.sub("", _BLOCK_END.sub("\n", value))
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    joined = "\n".join(line for line in lines if line)
    return joined or None
