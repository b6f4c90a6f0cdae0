"""The request gate: every request the crawler makes stays on its source's origins.

A hostile site chooses the URLs the crawler follows (links, feed items, sitemap
entries, ``rel=next``, redirects). The gate is the one place that decides whether
such a URL may be fetched, so no code path (and no ``dont_filter=True``) can lead
the crawler to another host, another port or a non-HTTP scheme.

The rule (also in README, "Crawling politely"):

* the scheme is ``http`` or ``https``;
* the URL has no userinfo (``http://a@b/`` names host ``b``, a classic trick);
* the host is a start URL's host or a configured ``allowed_domains`` entry, or a
  subdomain of a configured domain (hosts compared lowercased and IDNA-encoded);
* the port: a URL with an explicit non-default port, or whose host is an IP
  address or ``localhost``, must match a start URL's (host, port) exactly or an
  ``allowed_domains`` entry written ``host:port``. A domain name on its default
  port (80/443) is allowed on either scheme, so ``http`` -> ``https`` upgrades work.

Everything else is dropped with :class:`GateDropped`, counted as
``gate/dropped/<reason>`` (``scheme``, ``offsite``, ``redirect_offsite``,
``redirect_scheme``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
STATS_PREFIX = "gate/dropped/"


class GateDropped(IgnoreRequest):
    """A request the gate refused; ``reason`` is the stats key's last part."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Origins:
    """Where one source may be fetched from: exact (host, port) pairs and domains."""

    exact: frozenset[tuple[str, int]]
    domains: frozenset[str]

    @classmethod
    def of(cls, start_urls: Iterable[str], allowed_domains: Iterable[str] = ()) -> Origins:
        """The start URLs' origins plus the configured ``allowed_domains`` entries."""
        exact: set[tuple[str, int]] = set()
        domains: set[str] = set()
        for url in start_urls:
            parts = _parts(url)
            if parts is not None:
                exact.add((parts[1], parts[2]))
                domains.add(parts[1])
        for entry in allowed_domains:
            host, _, port = entry.strip().rpartition(":") if ":" in entry else ("", "", "")
            if host and port.isdigit():
                exact.add((_host(host), int(port)))
            else:
                domains.add(_host(entry.strip().lstrip(".")))
        return cls(frozenset(exact), frozenset(d for d in domains if d))


def _host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _parts(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)``; None when the URL has no host or an invalid port."""
    try:
        split = urlsplit(url.strip())
        port = split.port
    except ValueError:
        return None
    scheme = split.scheme.lower()
    if not split.hostname:
        return None
    return scheme, _host(split.hostname), port or DEFAULT_PORTS.get(scheme, 0)


def _is_ip_or_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def gate_reason(url: str, origins: Origins) -> str | None:
    """Why ``url`` may not be fetched (``"scheme"`` or ``"offsite"``), or None if it may."""
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return "scheme"
    if "\\" in url or urlsplit(url).username is not None or urlsplit(url).password is not None:
        return "offsite"  # userinfo and backslashes make browsers and parsers disagree
    parts = _parts(url)
    if parts is None:
        return "offsite"
    _, host, port = parts
    if (host, port) in origins.exact:
        return None
    default_port = port == DEFAULT_PORTS[scheme]
    in_domain = any(host == d or host.endswith("." + d) for d in origins.domains)
    if in_domain and default_port and not _is_ip_or_local(host):
        return None
    return "offsite"


def redirect_target(request: Request, response: Response) -> str | None:
    """The absolute URL a redirect response points to, or None if it is no redirect."""
    location = response.headers.get("Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    return urljoin(request.url, location.decode("latin-1"))


class _Gate:
    """What both gates hold: the crawl's stats and, through its spider, the origins."""

    def __init__(self, stats: StatsCollector, crawler: Crawler | None = None) -> None:
        self.stats = stats
        self.crawler = crawler  # its spider carries the origins (Scrapy >= 2.13 passes none)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, crawler)

    def _origins(self, spider: Any) -> Origins:
        return spider_origins(spider or getattr(self.crawler, "spider", None))


class RequestGate(_Gate):
    """Downloader middleware: drops every request that leaves the source's origins.

    It runs first (before robots.txt, which would otherwise fetch the other host's
    robots.txt), so it sees start pages, links, feed and sitemap entries, retries and
    the requests redirects produce.
    """

    def process_request(self, request: Request, spider: Any = None) -> None:
        reason = gate_reason(request.url, self._origins(spider))
        if reason is not None:
            self.stats.inc_value(STATS_PREFIX + reason)
            what = "scheme" if reason == "scheme" else "origin"
            raise GateDropped(reason, f"not fetched, {what} outside the source: {request.url!r}")


class RedirectGate(_Gate):
    """Downloader middleware before Scrapy's redirect one: a redirect off the source's
    origins (or to another scheme) is not followed; it is counted and named."""

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if request.meta.get("dont_redirect"):
            return response
        target = redirect_target(request, response)
        if target is None:
            return response
        reason = gate_reason(target, self._origins(spider))
        if reason is None:
            return response
        self.stats.inc_value(f"{STATS_PREFIX}redirect_{reason}")
        if reason == "scheme":
            scheme = urlsplit(target).scheme or "?"
            message = f"redirect to another scheme ({scheme!r}) not followed"
        else:
            message = "redirect to another origin not followed"
        raise GateDropped(f"redirect_{reason}", f"{message}: {request.url!r} -> {target!r}")


def spider_origins(spider: Any) -> Origins:
    """The spider's :class:`Origins` (``gate_origins``), built from its start URLs."""
    origins = getattr(spider, "gate_origins", None)
    if isinstance(origins, Origins):
        return origins
    return Origins.of(getattr(spider, "start_urls", ()), getattr(spider, "allowed_domains", ()))
