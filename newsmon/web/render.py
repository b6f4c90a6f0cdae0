"""Jinja2 for the pages: autoescape on everything, and the few filters crawled text needs.

Nothing crawled is ever marked safe as it is: :func:`segments` escapes each run before
wrapping the matched ones in ``<mark>``, and :func:`http_url` lets only http(s) URLs
become links (a crawled ``javascript:`` URL is shown as text, not linked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from newsmon.digest import highlight_segments
from newsmon.timefmt import format_duration, local_time


def http_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None (shown as text)."""
    if not url:
        return None
    cleaned = url.strip()
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return cleaned


def segments(runs: Iterable[Sequence[object]]) -> Markup:
    """``(text, is_match)`` runs as escaped HTML, the matches in ``<mark>``."""
    return Markup("").join(Markup("<mark>{}</mark>").format(text) if hit else escape(text)
                           for text, hit in runs)


def highlight(text: str, variants: Sequence[str]) -> Markup:
    return segments(highlight_segments(text, variants))


def took(duration: timedelta | None) -> str:
    """How long a run took, as people read it; ``—`` while it is still running."""
    return "—" if duration is None else format_duration(duration.total_seconds())


def environment(zone: str) -> Environment:
    env = Environment(loader=PackageLoader("newsmon.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=False)

    def localtime(value: datetime | None, missing: str = "—") -> str:
        return local_time(value, zone, missing=missing)

    env.filters.update(localtime=localtime, http_url=http_url, segments=segments,
                       highlight=highlight, took=took)
    return env
