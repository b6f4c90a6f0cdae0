"""RSS 2.0 feeds and XML sitemaps (plain, Google News, index) for the sample sites."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from newsmon.samplesites.pages import esc, joined, rfc822, w3c


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str
    link: str
    description: str
    published: datetime
    author: str
    category: str
    guid: str
    guid_is_permalink: bool = True


def rss(title: str, link: str, description: str, items: Iterable[FeedItem], encoding: str,
        built: datetime | None, language: str = "zh-cn") -> str:
    """An RSS 2.0 document; ``encoding`` is declared in the XML declaration."""
    entries = joined(_rss_item(item) for item in items)
    build_date = f"<lastBuildDate>{rfc822(built)}</lastBuildDate>" if built else ""
    return f"""<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{esc(title)}</title>
<link>{esc(link)}</link>
<description>{esc(description)}</description>
<language>{language}</language>
<generator>TRS WCM 7.0</generator>
<ttl>10</ttl>
{build_date}
{entries}
</channel>
</rss>
"""


def _rss_item(item: FeedItem) -> str:
    permalink = "true" if item.guid_is_permalink else "false"
    return f"""<item>
<title><![CDATA[{item.title}]]></title>
<link>{esc(item.link)}</link>
<description><![CDATA[{item.description}]]></description>
<author>{esc(item.author)}</author>
<category>{esc(item.category)}</category>
<pubDate>{rfc822(item.published)}</pubDate>
<guid isPermaLink="{permalink}">{esc(item.guid)}</guid>
</item>"""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None
    changefreq: str | None = None
    priority: str | None = None


def urlset(entries: Iterable[SitemapEntry]) -> str:
    rows = []
    for entry in entries:
        parts = [f"<loc>{esc(entry.loc)}</loc>"]
        if entry.lastmod:
            parts.append(f"<lastmod>{w3c(entry.lastmod)}</lastmod>")
        if entry.changefreq:
            parts.append(f"<changefreq>{entry.changefreq}</changefreq>")
        if entry.priority:
            parts.append(f"<priority>{entry.priority}</priority>")
        rows.append("<url>" + "".join(parts) + "</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + joined(rows) + "\n</urlset>\n")


@dataclass(frozen=True, slots=True)
class NewsEntry:
    loc: str
    publication: str
    language: str
    published: datetime
    title: str
    keywords: tuple[str, ...]


def news_urlset(entries: Iterable[NewsEntry]) -> str:
    """A Google News sitemap (``news:`` namespace)."""
    rows = []
    for entry in entries:
        keywords = (f"<news:keywords>{esc(', '.join(entry.keywords))}</news:keywords>"
                    if entry.keywords else "")
        rows.append(
            f"<url><loc>{esc(entry.loc)}</loc><news:news><news:publication>"
            f"<news:name>{esc(entry.publication)}</news:name>"
            f"<news:language>{entry.language}</news:language></news:publication>"
            f"<news:publication_date>{w3c(entry.published)}</news:publication_date>"
            f"<news:title>{esc(entry.title)}</news:title>{keywords}</news:news></url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            + joined(rows) + "\n</urlset>\n")


def sitemap_index(entries: Iterable[SitemapEntry]) -> str:
    rows = []
    for entry in entries:
        lastmod = f"<lastmod>{w3c(entry.lastmod)}</lastmod>" if entry.lastmod else ""
        rows.append(f"<sitemap><loc>{esc(entry.loc)}</loc>{lastmod}</sitemap>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + joined(rows) + "\n</sitemapindex>\n")
