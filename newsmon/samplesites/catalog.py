"""The sample articles: real news text from the shared corpus, as typed values.

``data/articles.json`` holds every article the sample sites serve (see PROVENANCE.md
for where each text came from). This module loads it once and answers the questions
the site templates and the tests ask: which articles a site shows on day one or day
two, and under which path each article is served. Nothing here does I/O beyond
reading the package data file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

DAYS = (1, 2, 3)  # day three: edits and takedowns (see daythree.py)

# Where each site lives and how it dates its pages. The URL schemes copy the real
# outlets' patterns (dzwww's TRS "t20200113_N.htm", qingdaonews' "content_N.htm" ...).
SITE_TIMEZONES = {
    "dzwww": "Asia/Shanghai",
    "qingdaonews": "Asia/Shanghai",
    "bandao": "Asia/Shanghai",
    "wenweipo": "Asia/Hong_Kong",
    "broken": "Asia/Shanghai",
}


@dataclass(frozen=True, slots=True)
class Block:
    """One block of an article body: ``p`` paragraph, ``h`` sub-heading, ``deck``
    (a bold lead-in under a heading) or ``cap`` (a picture caption)."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class SampleArticle:
    """One article page of a sample site, with the ground truth tests compare against.

    ``body`` is the article text as published; ``lead`` and ``tail`` are the lines the
    original page carried between headline and body and after the body (kickers,
    bylines, print-edition notes, copyright lines). ``story`` is shared by the pages
    that carry the same story (a republication), and ``republished_from`` names the
    ``site/slug`` of the original.
    """

    site: str
    slug: str
    day: int
    published: datetime
    title: str
    source: str
    author: str | None
    editor: str | None
    channel: str
    tags: tuple[str, ...]
    keywords: tuple[str, ...]
    lead: tuple[str, ...]
    body: tuple[Block, ...]
    tail: tuple[str, ...]
    story: str
    corpus: str
    licence: str
    republished_from: str | None = None
    leak: tuple[str, ...] = ()
    seed_tail: tuple[str, ...] = ()
    inline_ad_after: int | None = None
    time_format: str | None = None
    canonical_tracking: bool = False

    @property
    def key(self) -> str:
        return f"{self.site}/{self.slug}"

    @property
    def body_text(self) -> str:
        """The body as plain text, one block per line."""
        return "\n".join(block.text for block in self.body)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(block.text for block in self.body if block.kind == "p")

    @property
    def path(self) -> str:
        """The server path this article is served under."""
        return article_path(self)

    def summary(self, length: int = 60) -> str:
        """The first characters of the first paragraph, as list pages and feeds show."""
        first = self.paragraphs[0] if self.paragraphs else self.body_text
        return first if len(first) <= length else first[:length] + "…"


def article_path(article: SampleArticle) -> str:
    """The path of an article page on its site, built the way the real outlet builds it."""
    when = article.published
    match article.site:
        case "dzwww":
            return f"/dzwww/{article.channel}/{when:%Y%m}/{article.slug}.htm"
        case "qingdaonews":
            return f"/qingdaonews/content/{when:%Y-%m}/{when:%d}/content_{article.slug}.htm"
        case "bandao":
            return f"/bandao/a/{article.slug}.html"
        case "wenweipo":
            return f"/wenweipo/a/{when:%Y%m}/{when:%d}/{article.slug}.html"
        case "broken":
            return f"/broken/{article.slug}.html"
    raise ValueError(f"article {article.key}: unknown site {article.site!r}")


@cache
def all_articles() -> tuple[SampleArticle, ...]:
    """Every article in the package data, in file order."""
    raw = json.loads(resources.files("newsmon.samplesites.data").joinpath("articles.json")
                     .read_text(encoding="utf-8"))
    by_key = {f"{entry['site']}/{entry['slug']}": entry for entry in raw}
    return tuple(_article_from_json(entry, by_key) for entry in raw)


def articles_for(site: str, day: int) -> list[SampleArticle]:
    """The articles ``site`` shows on ``day``, newest first (day two keeps day one's;
    day three changes some of them, see :mod:`newsmon.samplesites.daythree`)."""
    check_day(day)
    chosen = [a for a in all_articles() if a.site == site and a.day <= day]
    if day == 3:
        from newsmon.samplesites.daythree import changed

        chosen = [c for a in chosen if (c := changed(a)) is not None]
    return sorted(chosen, key=lambda a: a.published, reverse=True)


def check_day(day: int) -> None:
    if day not in DAYS:
        raise ValueError(f"day must be 1, 2 or 3, got {day!r}")


def find_article(site: str, slug: str) -> SampleArticle:
    for article in all_articles():
        if article.site == site and article.slug == slug:
            return article
    raise KeyError(f"no sample article {site}/{slug}")


def _article_from_json(entry: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> SampleArticle:
    where = f"articles.json: {entry.get('site')}/{entry.get('slug')}"
    body_source = entry
    if entry.get("body_from"):
        # A republication carries the original's body unchanged; stored once.
        body_source = by_key[entry["body_from"]]
    zone = ZoneInfo(SITE_TIMEZONES[entry["site"]])
    try:
        published = datetime.fromisoformat(entry["published"]).replace(tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"{where}: bad published time: {exc}") from None
    return SampleArticle(
        site=entry["site"],
        slug=entry["slug"],
        day=int(entry["day"]),
        published=published,
        title=entry["title"],
        source=entry["source"],
        author=entry.get("author"),
        editor=entry.get("editor"),
        channel=entry["channel"],
        tags=tuple(entry.get("tags", ())),
        keywords=tuple(entry.get("keywords", ())),
        lead=tuple(entry.get("lead", ())),
        body=tuple(Block(kind, text) for kind, text in body_source["body"]),
        tail=tuple(entry.get("tail", ())),
        story=entry["story"],
        corpus=entry["corpus"],
        licence=entry["licence"],
        republished_from=entry.get("republished_from") or entry.get("body_from"),
        leak=tuple(entry.get("leak", ())),
        seed_tail=tuple(entry.get("seed_tail", ())),
        inline_ad_after=entry.get("inline_ad_after"),
        time_format=entry.get("time_format"),
        canonical_tracking=bool(entry.get("canonical_tracking", False)),
    )


def newest(articles: Sequence[SampleArticle]) -> datetime | None:
    """When the newest of ``articles`` was published (None for none)."""
    return max((a.published for a in articles), default=None)
