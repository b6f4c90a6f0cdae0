"""Shared pieces of the sample-site templates: resources, encoding, dates, pagination.

Every site module turns articles into :class:`Resource` values (bytes plus the headers
that matter), the news sites through a :class:`SitePages` subclass. These helpers are
pure: the base URL and the day are passed in.
"""

from __future__ import annotations

import gzip
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import ClassVar, TypeVar

from newsmon.samplesites.catalog import SampleArticle, articles_for, newest

T = TypeVar("T")

# Pages smaller than this are sent uncompressed, as nginx's gzip_min_length does.
GZIP_MIN_BYTES = 1024

# Fixed "last modified" of pages that never change (about, contact, forum index).
STATIC_MODIFIED = datetime(2019, 12, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a template needs besides the articles: where the server is, which day."""

    base_url: str  # "http://127.0.0.1:PORT", no trailing slash
    day: int

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def netloc_url(self) -> str:
        """The base URL without its scheme, for protocol-relative links (``//host:port``)."""
        return self.base_url.split(":", 1)[1]


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """The facts about a sample site that the server and the config need."""

    name: str
    display_name: str
    timezone: str
    charset: str
    list_path: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    max_list_pages: int = 5
    robots_disallow: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return f"/{self.name}/"


@dataclass(frozen=True, slots=True)
class Resource:
    """One response body the server can send, with its validators precomputed."""

    body: bytes
    content_type: str
    last_modified: datetime | None = None
    etag: str = field(init=False)
    gzipped: bytes | None = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.body, usedforsecurity=False).hexdigest()[:16]
        # Weak, because the same entity is also sent gzip-encoded (as nginx does).
        object.__setattr__(self, "etag", f'W/"{digest}"')
        compressible = self.content_type.startswith(("text/", "application/xml",
                                                     "application/rss+xml"))
        gz = (gzip.compress(self.body, compresslevel=6, mtime=0)
              if compressible and len(self.body) >= GZIP_MIN_BYTES else None)
        object.__setattr__(self, "gzipped", gz)

    @property
    def last_modified_header(self) -> str | None:
        if self.last_modified is None:
            return None
        return format_datetime(self.last_modified.astimezone(UTC), usegmt=True)


def html_resource(text: str, encoding: str, charset: str,
                  last_modified: datetime | None) -> Resource:
    return Resource(encode(text, encoding), f"text/html; charset={charset}", last_modified)


def xml_resource(text: str, encoding: str, content_type: str,
                 last_modified: datetime | None) -> Resource:
    return Resource(encode(text, encoding), f"{content_type}; charset={encoding}",
                    last_modified)


def encode(text: str, encoding: str) -> bytes:
    """Encode as a legacy-charset CMS does: characters the charset lacks become
    numeric character references (``&#34907;``), which HTML and XML both decode."""
    return text.encode(encoding, errors="xmlcharrefreplace")


@cache
def _template(name: str) -> Template:
    path = resources.files("newsmon.samplesites.templates").joinpath(name)
    return Template(path.read_text(encoding="utf-8"))


def fill(name: str, **values: str) -> str:
    """Fill ``templates/<name>``; a placeholder without a value is an error naming it."""
    try:
        return _template(name).substitute(values)
    except KeyError as exc:
        raise KeyError(f"template {name}: no value for ${exc.args[0]}") from None


def esc(text: str) -> str:
    return escape(text, quote=True)


def paginate(items: Sequence[T], size: int) -> list[list[T]]:
    """Split ``items`` into pages of ``size``; an empty sequence is one empty page."""
    pages = [list(items[i:i + size]) for i in range(0, len(items), size)]
    return pages or [[]]


def rfc822(when: datetime) -> str:
    """RSS ``pubDate``: ``Mon, 13 Jan 2020 08:46:00 +0800``."""
    return format_datetime(when)


def w3c(when: datetime) -> str:
    """Sitemap and JSON-LD time: ``2020-01-13T08:46:00+08:00``."""
    return when.isoformat(timespec="seconds")


def joined(parts: Iterable[str]) -> str:
    return "\n".join(parts)


def paragraphs_html(lines: Iterable[str], css_class: str | None = None) -> str:
    attr = f' class="{css_class}"' if css_class else ""
    return joined(f"<p{attr}>{esc(line)}</p>" for line in lines)


def blocks_html(a: SampleArticle, forms: dict[str, str]) -> list[str]:
    """Each body block through the form of its kind (``p`` for kinds not given), which
    may use ``{text}`` (escaped), ``{slug}`` and ``{number}`` (the block's index)."""
    return [forms.get(block.kind, forms["p"]).format(text=esc(block.text), slug=a.slug,
                                                      number=number)
            for number, block in enumerate(a.body)]


WEEKDAYS_TRADITIONAL = "一二三四五六日"


def tracking_script(site: str, page_id: str) -> str:
    """The analytics snippet real pages carry: text inside <script> that an extractor
    must ignore (it even holds a title-like string)."""
    return (
        "<script type=\"text/javascript\">\n"
        "var _hmt = _hmt || [];\n"
        f"var _pageinfo = {{site: \"{site}\", id: \"{page_id}\", channel: \"news\"}};\n"
        "(function() { var hm = document.createElement(\"script\");"
        f" hm.src = \"/{site}/js/stat.js?id={page_id}\";"
        " var s = document.getElementsByTagName(\"script\")[0];"
        " s.parentNode.insertBefore(hm, s); })();\n"
        "</script>"
    )


class SitePages(ABC):
    """One news site's pages for one day: the home page, the paginated list, a page per
    section, the articles and the fixed pages, which every news site has; a subclass
    renders each kind and adds its feeds and sitemaps in :meth:`extras`."""

    spec: ClassVar[SiteSpec]
    page_size: ClassVar[int]
    home_paths: ClassVar[tuple[str, ...]]
    channels: ClassVar[dict[str, str]]
    channel_path: ClassVar[str]  # "/site/{}/index.html": the section page of a channel
    static_pages: ClassVar[tuple[tuple[str, str, str], ...]] = ()  # (path, title, text)

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self.articles = articles_for(self.spec.name, ctx.day)
        self.modified = newest(self.articles)
        self.page_count = len(paginate(self.articles, self.page_size))

    @classmethod
    def render(cls, ctx: RenderContext) -> dict[str, Resource]:
        """Every resource of the site on ``ctx.day``, keyed by path."""
        site = cls(ctx)
        home = site.html(site.home())
        out = dict.fromkeys(site.home_paths, home)
        for number, chunk in enumerate(paginate(site.articles, site.page_size), start=1):
            out[site.list_page_path(number)] = site.html(site.list_page(chunk, number))
        for path, heading, chosen in site.sections():
            out[path] = site.html(site.section(heading, chosen))
        for article in site.articles:
            out[article.path] = site.html(site.article(article), article.published)
        for path, title, text in site.static_pages:
            out[path] = site.html(site.static(title, text), STATIC_MODIFIED)
        return out | site.extras()

    def html(self, text: str, modified: datetime | None = None) -> Resource:
        """An HTML page, last modified when the newest article was unless told."""
        charset = self.spec.charset  # the page is encoded in the charset it declares
        return html_resource(text, charset, charset, modified or self.modified)

    def xml(self, text: str, content_type: str) -> Resource:
        return xml_resource(text, self.spec.charset, content_type, self.modified)

    def sections(self) -> list[tuple[str, str, list[SampleArticle]]]:
        """(path, heading, articles) of each section page: one per channel."""
        return [(self.channel_path.format(key), name,
                 [a for a in self.articles if a.channel == key])
                for key, name in self.channels.items()]

    def extras(self) -> dict[str, Resource]:
        """The site's feeds and sitemaps."""
        return {}

    @staticmethod
    @abstractmethod
    def list_page_path(number: int) -> str: ...

    @abstractmethod
    def home(self) -> str: ...

    @abstractmethod
    def list_page(self, chunk: list[SampleArticle], number: int) -> str: ...

    @abstractmethod
    def section(self, heading: str, chosen: list[SampleArticle]) -> str: ...

    @abstractmethod
    def article(self, a: SampleArticle) -> str: ...

    @abstractmethod
    def static(self, title: str, text: str) -> str: ...
