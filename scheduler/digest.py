"""Digests: the matches a subscription has not received, grouped by topic.

Building and rendering are pure: they take the pending matches (plain values read by
``storage.matches.undelivered_matches``) and the time zones to show, and return text
or JSON-ready values. Delivery and the "delivered" ledger live in the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage.matches import PendingMatch


@dataclass(frozen=True, slots=True)
class DigestEntry:
    match_id: int
    article_id: int
    title: str
    url: str
    outlet: str | None  # the 来源 named on the page
    site: str  # the configured source it was crawled from
    published_at: datetime | None
    zone: str
    snippet: str
    variants: tuple[str, ...]

    @property
    def local_time(self) -> str:
        if self.published_at is None:
            return "time unknown"
        local = self.published_at.astimezone(ZoneInfo(self.zone))
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


@dataclass(frozen=True, slots=True)
class TopicGroup:
    topic: str
    entries: tuple[DigestEntry, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    subscription: str
    generated_at: datetime
    groups: tuple[TopicGroup, ...]

    @property
    def match_ids(self) -> list[int]:
        return [e.match_id for g in self.groups for e in g.entries]

    @property
    def is_empty(self) -> bool:
        return not self.groups


def build_digest(subscription: str, pending: Sequence[PendingMatch], now: datetime,
                 zones: Mapping[str, str], default_zone: str) -> Digest:
    """Group ``pending`` by topic (in topic-name order), newest article first."""
    by_topic: dict[str, list[DigestEntry]] = {}
    for match in pending:
        entry = DigestEntry(
            match_id=match.match_id, article_id=match.article_id, title=match.title,
            url=match.url, outlet=match.source, site=match.site,
            published_at=match.published_at, zone=zones.get(match.site, default_zone),
            snippet=match.snippet,
            variants=tuple(dict.fromkeys(str(h.get("variant", "")) for h in match.hits
                                         if h.get("variant"))))
        by_topic.setdefault(match.topic, []).append(entry)
    groups = tuple(
        TopicGroup(topic, tuple(sorted(entries, key=_newest_first)))
        for topic, entries in sorted(by_topic.items()))
    return Digest(subscription, now, groups)


def _newest_first(entry: DigestEntry) -> tuple[float, int]:
    stamp = entry.published_at.timestamp() if entry.published_at else float("-inf")
    return (-stamp, entry.match_id)


def highlight(snippet: str, variants: Sequence[str], start: str = "[", end: str = "]") -> str:
    """Mark every occurrence of the matched variants in ``snippet``."""
    result = snippet
    for variant in sorted(set(variants), key=len, reverse=True):
        if variant:
            result = result.replace(variant, f"{start}{variant}{end}")
    return result


def render_text(digest: Digest) -> str:
    """The plain-text digest printed by ``newsmon digest``."""
    if digest.is_empty:
        return "No new matches.\n"
    lines: list[str] = []
    for group in digest.groups:
        count = len(group.entries)
        lines.append(f"== {group.topic} ({count} new article{'s' if count != 1 else ''}) ==")
        for entry in group.entries:
            outlet = f"来源 {entry.outlet}" if entry.outlet else "来源 unknown"
            lines.append(f"* {entry.title}")
            lines.append(f"  {outlet} · {entry.site} · {entry.local_time}")
            lines.append(f"  {entry.url}")
            if entry.snippet:
                lines.append(f"  {highlight(entry.snippet, entry.variants)}")
        lines.append("")
    return "\n".join(lines)


def digest_as_json(digest: Digest) -> dict[str, Any]:
    return {
        "subscription": digest.subscription,
        "generated_at": digest.generated_at.isoformat(),
        "topics": [
            {
                "topic": group.topic,
                "articles": [
                    {
                        "match_id": e.match_id, "article_id": e.article_id, "title": e.title,
                        "url": e.url, "source": e.outlet, "site": e.site,
                        "published_at": e.published_at.astimezone(ZoneInfo(e.zone)).isoformat()
                        if e.published_at else None,
                        "snippet": e.snippet, "matched": list(e.variants),
                    }
                    for e in group.entries
                ],
            }
            for group in digest.groups
        ],
    }
