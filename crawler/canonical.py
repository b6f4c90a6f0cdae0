"""Canonical URLs: one spelling per page, so the URL ledger and the articles table
never hold the same page twice (pure functions).

:func:`canonicalize` is the identity of a URL: lower-case scheme and host, no default
port, no fragment, no tracking parameters (``utm_*``, ``spm``, ``from`` …), a mobile
host mapped to its desktop twin when the source config says so (``host_aliases``),
then w3lib's ``canonicalize_url`` (sorted query, normalised percent-encoding).

:func:`article_canonical` decides whether to believe a page's own ``rel=canonical``
(or ``og:url``): only when it stays on the same registrable domain (a CMS that points
every article at a portal, or a copied page still naming its original site, would
otherwise merge different pages) and does not point at a site's front page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import tldextract
from w3lib.url import canonicalize_url

# Query parameters that only say how a reader arrived (analytics, share buttons,
# app deep links); they never select different content.
TRACKING_PARAMS = frozenset({
    "spm", "spm_id_from", "from", "fromsource", "share", "share_from", "sharefrom",
    "share_token", "sharetype", "scene", "srcid", "isappinstalled", "clicktime", "enterid",
    "ref", "referer", "referrer", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid",
    "mc_cid", "mc_eid", "wt.mc_id", "_ga", "_gl", "cmpid", "s_cid", "tt_from", "tt_medium",
    "wfr", "bd_vid", "vd_source",
})
TRACKING_PREFIXES = ("utm_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_FRONT_PAGE = re.compile(r"^/?((index|default|home)\.(s?html?|php|aspx?|jsp))?$", re.IGNORECASE)


class UrlError(ValueError):
    """A URL that cannot be canonicalised; the message names it."""


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def strip_tracking(query: str) -> str:
    """``query`` without tracking parameters (order and blank values kept)."""
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
            if not is_tracking_param(k)]
    return urlencode(kept, doseq=True)


def canonicalize(url: str, host_aliases: Mapping[str, str] | None = None) -> str:
    """The one spelling of ``url`` that newsmon keys pages by.

    ``host_aliases`` maps a host to the host it is an alias of (``m.dzwww.com`` ->
    ``www.dzwww.com``); hosts compare case-insensitively.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"not a usable URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise UrlError(f"not an http(s) URL: {url!r}")
    host = _aliased(host, host_aliases)
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"  # IPv6 literal
    cleaned = urlunsplit((scheme, netloc, parts.path or "/", strip_tracking(parts.query), ""))
    return str(canonicalize_url(cleaned, keep_fragments=False))


def _aliased(host: str, host_aliases: Mapping[str, str] | None) -> str:
    if not host_aliases:
        return host
    for alias, target in host_aliases.items():
        if alias.lower() == host:
            return target.lower()
    return host


@cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot: no network, no cache files.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registrable_domain(url_or_host: str) -> str:
    """``news.163.com`` -> ``163.com``; IP addresses and bare names are their own domain."""
    host = urlsplit(url_or_host).hostname if "://" in url_or_host else url_or_host
    host = (host or "").lower().strip(".")
    extracted = _extractor()(host)
    if extracted.suffix and extracted.domain:
        return f"{extracted.domain}.{extracted.suffix}"
    return host


def article_canonical(page_url: str, declared: str | None,
                      host_aliases: Mapping[str, str] | None = None) -> str:
    """The canonical URL to store an article under.

    ``page_url`` is where the page was fetched (after redirects); ``declared`` is the
    page's ``rel=canonical``/``og:url`` if it has one. The declared URL wins only when
    it is on the same registrable domain (after applying ``host_aliases``) and is not
    a front page while the fetched URL is not.
    """
    fetched = canonicalize(page_url, host_aliases)
    if not declared or declared == page_url:
        return fetched
    try:
        claimed = canonicalize(declared, host_aliases)
    except UrlError:
        return fetched
    if registrable_domain(claimed) != registrable_domain(fetched):
        return fetched
    if _FRONT_PAGE.match(urlsplit(claimed).path) and not _FRONT_PAGE.match(
            urlsplit(fetched).path):
        return fetched
    return claimed


_ENCODED_URL = re.compile(r"^https?%3A%2F%2F", re.IGNORECASE)
_HOST_FIRST = re.compile(r"^([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d+)?(?:[/?#]|$)")


def resolve_declared(page_url: str, href: str) -> str | None:
    """A page's ``rel=canonical``/``og:url`` value as an absolute http(s) URL, or None.

    Written absolute (``https://…``), protocol-relative (``//host/…``) or from the
    root (``/path``) it is resolved against ``page_url``. Two broken forms that
    CMSs print are recognised rather than joined onto the current path (which names
    a page that does not exist): the whole URL percent-encoded (``https%3A%2F%2F…``,
    decoded) and a URL without its scheme (``std.stheadline.com/instant/…``, given
    the page's scheme when its first segment is a host under a public suffix). A
    path relative to the current one is ignored: canonicals written so are
    templates gone wrong far more often than they are right.
    """
    href = href.strip()
    if _ENCODED_URL.match(href):
        href = unquote(href)
    lowered = href.lower()
    if lowered.startswith(("http://", "https://")):
        resolved = href
    elif href.startswith("/"):
        try:
            resolved = urljoin(page_url, href)
        except ValueError:
            return None
    else:
        host = _HOST_FIRST.match(href)
        if host is None or not _extractor()(host.group(1).lower()).suffix:
            return None
        resolved = f"{urlsplit(page_url).scheme or 'http'}://{href}"
    try:
        parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return resolved


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` (the port always written)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"
