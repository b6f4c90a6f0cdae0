"""Setting up and debugging a source: what a site offers and what newsmon finds there.

:func:`discover_source` looks at a URL the way ``newsmon sources add`` needs: is it a
list page, a feed or a sitemap; which feeds the page announces
(``<link rel="alternate">``); which sitemaps robots.txt names (``Sitemap:``) or
``/sitemap.xml`` holds. :func:`check_source` fetches a configured source's start
pages once and reports the article links found and one extracted article, for
``newsmon sources check``.

These are single, interactive fetches with the standard library (no crawl, no
database). Sitemaps are kept only when they cover the part of the site the URL is
in: the URL's host when the URL is at the top of the site, otherwise its first
directory. On a host that serves several sites under path prefixes (``/dzwww/``,
``/bandao/`` …, as the sample sites do) or a site whose robots.txt lists one sitemap
per section, a section's sitemaps are those under that directory, or whose entries
all are; a host-wide sitemap would make the source crawl the other sections too.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from newsmon.config import SourceConfig
from newsmon.crawler.canonical import registrable_domain
from newsmon.crawler.extract import ExtractionFailed, decode_html, extract_article
from newsmon.crawler.links import (
    find_article_links,
    find_feed_links,
    is_document,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
)
from newsmon.values import ExtractedArticle

FETCH_TIMEOUT = 20.0
MAX_BYTES = 10 * 1024 * 1024
MAX_SITEMAP_CHILDREN = 5


class FetchError(Exception):
    """A page could not be fetched; the message names the URL and why."""


class FetchTimeLimit(FetchError):
    """The command's total time for fetching ran out (``--max-time``)."""


_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("deadline",
                                                                        default=None)


class Deadline:
    """The total time a command's fetches may take together.

    urllib's ``timeout`` is per socket operation, so a server sending a byte a second
    would hold a fetch for as long as it likes; when the deadline passes, a timer
    shuts the open sockets down, which ends any blocked read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def error(self, url: str) -> FetchTimeLimit:
        return FetchTimeLimit(f"{url}: not fetched within the {self.seconds:g} s limit for "
                              "all fetches (--max-time)")


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: nothing to end
        sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type[http.client.HTTPConnection], deadline: Deadline) -> Any:
    class Watched(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            per_operation = self.timeout or FETCH_TIMEOUT  # type: ignore[has-type]
            self.timeout = min(per_operation, max(deadline.remaining(), 0.01))
            super().connect()
            deadline.watch(self.sock)

    return Watched


def _watched_opener(deadline: Deadline) -> urllib.request.OpenerDirector:
    """An opener whose connections ``deadline`` watches."""
    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(_watched(http.client.HTTPConnection, deadline), req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(_watched(http.client.HTTPSConnection, deadline), req,
                                context=self._context)  # type: ignore[attr-defined]

    return urllib.request.build_opener(HTTPHandler(), HTTPSHandler())


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str | None


def fetch(url: str, *, user_agent: str, timeout: float = FETCH_TIMEOUT,
          deadline: Deadline | None = None) -> Fetched:
    """GET ``url`` once (redirects followed, size capped); errors name the URL.

    ``timeout`` bounds each socket operation; ``deadline`` all fetches together."""
    deadline = deadline or _DEADLINE.get()
    if deadline is None:
        return _fetch(url, user_agent, timeout, urllib.request.build_opener())
    if deadline.remaining() <= 0:
        raise deadline.error(url)
    timer = threading.Timer(deadline.remaining(), deadline.expire)
    timer.daemon = True
    timer.start()
    try:
        fetched = _fetch(url, user_agent, timeout, _watched_opener(deadline))
    except FetchTimeLimit:
        raise  # the command is out of time: stop, do not note and go on
    except FetchError:
        if deadline.expired:
            raise deadline.error(url) from None
        raise
    finally:
        timer.cancel()
    if deadline.expired:  # a body read to a cut-off end is not the page
        raise deadline.error(url)
    return fetched


def _fetch_or_error(url: str, user_agent: str, timeout: float) -> Fetched | str:
    """The page, or why it could not be fetched (a message naming the URL), for a
    caller that notes the failure and goes on."""
    try:
        return fetch(url, user_agent=user_agent, timeout=timeout)
    except FetchTimeLimit:
        raise  # the command is out of time: stop, do not note and go on
    except FetchError as exc:
        return str(exc)


def _fetch(url: str, user_agent: str, timeout: float,
           opener: urllib.request.OpenerDirector) -> Fetched:
    request = urllib.request.Request(url, headers={"User-Agent": user_agent,
                                                   "Accept-Encoding": "identity"})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FetchError(f"{url}: larger than {MAX_BYTES} bytes")
            return Fetched(response.geturl(), body, response.headers.get("Content-Type"))
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchError(f"{url}: {exc.reason}") from None
    except (TimeoutError, OSError, ValueError, http.client.HTTPException) as exc:
        raise FetchError(f"{url}: {exc}") from None


def page_kind(page: Fetched) -> str:
    """``feed``, ``sitemap`` or ``html`` — what the bytes are, whatever the URL says."""
    head = page.body.lstrip()[:1000].lower()
    if head.startswith(b"<?xml") or head.startswith((b"<rss", b"<feed", b"<urlset",
                                                     b"<sitemapindex", b"{")):
        if parse_sitemap(page.body)[0] != "invalid":
            return "sitemap"
        if parse_feed(page.body, page.url):
            return "feed"
    return "html"


def _scope(url: str) -> tuple[str, str]:
    """``(host, first directory)`` of a URL: ``("x.cn", "/bandao/")`` or ``("x.cn", "/")``."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    directory = f"/{segments[1]}/" if len(segments) > 2 and segments[1] else "/"
    return (parts.hostname or "").lower(), directory


def in_scope(url: str, scope: tuple[str, str]) -> bool:
    """Is ``url`` on the scope's host and under its directory?"""
    host = (urlsplit(url).hostname or "").lower()
    return host == scope[0] and (scope[1] == "/" or urlsplit(url).path.startswith(scope[1]))


@dataclass
class Discovery:
    """What a URL offers as a source (``sources add``)."""

    url: str
    kind: str  # html | feed | sitemap
    lists: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    allowed_domains: list[str] = field(default_factory=list)
    article_links: int = 0
    notes: list[str] = field(default_factory=list)


def discover_source(url: str, *, user_agent: str, timeout: float = FETCH_TIMEOUT,
                    max_time: float | None = None) -> Discovery:
    """Fetch ``url`` and find its feeds and sitemaps (raises :class:`FetchError`), all
    fetches together within ``max_time`` seconds (:class:`FetchTimeLimit`)."""
    with _time_limit(max_time):
        return _discover(url, user_agent=user_agent, timeout=timeout)


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    token = _DEADLINE.set(Deadline(seconds) if seconds is not None else None)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _discover(url: str, *, user_agent: str, timeout: float) -> Discovery:
    page = fetch(url, user_agent=user_agent, timeout=timeout)
    kind = page_kind(page)
    found = Discovery(url=url, kind=kind, allowed_domains=[registrable_domain(page.url)])
    scope = _scope(page.url)
    if kind == "feed":
        found.feeds.append(url)
    elif kind == "sitemap":
        found.sitemaps.append(url)
    else:
        found.lists.append(url)
        links = find_article_links(page.body, page.url, content_type=page.content_type)
        found.article_links = len(links)
        if not links:
            found.notes.append(f"{url}: no article links found on this page; give an "
                               "article_pattern in the config if it lists articles")
        for feed in find_feed_links(page.body, page.url, page.content_type):
            if _verified(feed, "feed", user_agent, timeout, found):
                found.feeds.append(feed)
    for sitemap in _sitemap_candidates(page.url, user_agent, timeout):
        if sitemap not in found.sitemaps and _sitemap_in_scope(sitemap, scope, user_agent,
                                                               timeout, found):
            found.sitemaps.append(sitemap)
    return found


def _verified(url: str, kind: str, user_agent: str, timeout: float, found: Discovery) -> bool:
    page = _fetch_or_error(url, user_agent, timeout)
    if isinstance(page, str):
        found.notes.append(f"skipped {kind} {page}")
        return False
    if page_kind(page) != kind:
        found.notes.append(f"skipped {url}: announced as a {kind} but it is not one")
        return False
    return True


def _sitemap_candidates(url: str, user_agent: str, timeout: float) -> list[str]:
    origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    robots_url = origin + "/robots.txt"
    robots = _fetch_or_error(robots_url, user_agent, timeout)
    named = [] if isinstance(robots, str) else robots_sitemaps(
        decode_html(robots.body, robots.content_type).text, robots_url)
    candidates = [s for s in named if urlsplit(s).hostname == urlsplit(url).hostname]
    fallback = urljoin(origin, "/sitemap.xml")
    return [*candidates, *([fallback] if fallback not in candidates else [])]


def _sitemap_in_scope(url: str, scope: tuple[str, str], user_agent: str, timeout: float,
                      found: Discovery) -> bool:
    page = _fetch_or_error(url, user_agent, timeout)
    if isinstance(page, str):
        return False  # robots.txt named it or /sitemap.xml was a guess: absent is fine
    kind, locations = parse_sitemap(page.body)
    if kind == "invalid":
        return False
    if in_scope(url, scope) or (locations and all(in_scope(loc, scope) for loc in locations)):
        return True
    found.notes.append(f"skipped sitemap {url}: not limited to {scope[0]}{scope[1]}")
    return False


@dataclass
class StartPageReport:
    """One start page as ``sources check`` saw it."""

    url: str
    kind: str
    links: list[str] = field(default_factory=list)
    error: str | None = None
    children: list[str] = field(default_factory=list)  # a sitemap index's sitemaps


@dataclass
class CheckReport:
    source: str
    pages: list[StartPageReport]
    article: ExtractedArticle | None = None
    article_error: str | None = None

    @property
    def ok(self) -> bool:
        found = any(page.links for page in self.pages)
        return found and not any(page.error for page in self.pages) and self.article is not None


def check_source(source: SourceConfig, *, user_agent: str, timeout: float = FETCH_TIMEOUT,
                 max_time: float | None = None) -> CheckReport:
    """Fetch every start page once; report its article links and extract one article
    (all fetches together within ``max_time`` seconds, else :class:`FetchTimeLimit`)."""
    with _time_limit(max_time):
        return _check(source, user_agent=user_agent, timeout=timeout)


def _check(source: SourceConfig, *, user_agent: str, timeout: float) -> CheckReport:
    pages = [_check_page(url, kind, source, user_agent, timeout)
             for kind, urls in (("list", source.lists), ("feed", source.feeds),
                                ("sitemap", source.sitemaps)) for url in urls]
    report = CheckReport(source.name, pages)
    first = next((link for page in pages for link in page.links if not is_document(link)), None)
    if first is None:
        report.article_error = "no article link found on any start page"
        return report
    page = _fetch_or_error(first, user_agent, timeout)
    if isinstance(page, str):
        report.article_error = page
        return report
    try:
        report.article = extract_article(page.body, url=page.url,
                                         content_type=page.content_type,
                                         fetched_at=datetime.now(UTC),
                                         timezone=source.timezone, overrides=source.extract)
    except ExtractionFailed as exc:
        report.article_error = f"{page.url}: {exc}"
    return report


def _check_page(url: str, kind: str, source: SourceConfig, user_agent: str,
                timeout: float) -> StartPageReport:
    report = StartPageReport(url, kind)
    page = _fetch_or_error(url, user_agent, timeout)
    if isinstance(page, str):
        report.error = page
        return report
    if kind == "list":
        report.links = [link.url for link in find_article_links(
            page.body, page.url, content_type=page.content_type,
            allowed_domains=source.allowed_domains, pattern=source.article_pattern)]
    elif kind == "feed":
        report.links = [link.url for link in parse_feed(page.body, page.url)]
        if not report.links and feedparser.parse(page.body).bozo:
            report.error = f"{url}: not a readable feed"
    else:
        report.links, report.children = _sitemap_links(page, user_agent, timeout)
        if not report.links and not report.children:
            report.error = f"{url}: not a readable sitemap"
    return report


def _sitemap_links(page: Fetched, user_agent: str, timeout: float
                   ) -> tuple[list[str], list[str]]:
    kind, locations = parse_sitemap(page.body)
    if kind != "sitemapindex":
        return (locations if kind == "urlset" else []), []
    links: list[str] = []
    for child in locations[:MAX_SITEMAP_CHILDREN]:
        fetched = _fetch_or_error(child, user_agent, timeout)
        if isinstance(fetched, str):
            continue
        child_kind, child_locations = parse_sitemap(fetched.body)
        if child_kind == "urlset":
            links.extend(child_locations)
    return links, list(locations)
