"""Digests: the matches a subscription has not received, grouped by topic, then story.

Building is pure: :func:`build_digest` takes the pending matches and the source
report (plain values read by ``storage.matches`` and ``storage.digests``), the
subscription's time zone and "now", and returns a :class:`Digest`. The formats in
``newsmon.digest.render`` turn a digest into text, Markdown, HTML, JSON or Atom; the
channels in ``newsmon.delivery`` send it; ``newsmon.app.digests`` keeps the
ledgers. Nothing here touches the network, the database or the clock.

A *story* is one piece of news as published by one or more outlets: articles that
share ``story_id`` (filled by same-story detection), or a single article while it has
none. A republished story therefore appears once in its topic, with every outlet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from newsmon.timefmt import local_time
from newsmon.values import PendingMatch, SourceAlert
from newsmon.versions import WatchEvent, event_line

__all__ = [
    "ChangeEntry",
    "Digest",
    "DigestEntry",
    "StoryGroup",
    "TopicGroup",
    "build_digest",
    "change_entries",
    "digest_subject",
    "highlight",
    "highlight_segments",
    "quiet_hours_end",
]


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One article of a story, as a digest shows it.

    ``outlet`` is the 来源 the page names; ``site`` the configured source it was
    crawled from. ``delivered`` is True for entries shown again from the delivery
    ledger (the Atom feed keeps a window of them) rather than new in this digest.
    """

    match_id: int
    article_id: int
    title: str
    url: str
    outlet: str | None
    site: str
    published_at: datetime | None
    first_seen: datetime
    zone: str
    snippet: str
    variants: tuple[str, ...]
    delivered: bool = False

    @property
    def local_time(self) -> str:
        """The publish time, or when newsmon first saw an article that gives none."""
        if self.published_at is None:
            return f"time unknown (first seen {local_time(self.first_seen, self.zone)})"
        return local_time(self.published_at, self.zone)

    @property
    def when(self) -> datetime:
        """The time used for ordering: published, or first seen when unknown."""
        return self.published_at or self.first_seen


@dataclass(frozen=True, slots=True)
class StoryGroup:
    """The copies of one story that matched a topic, oldest (the original) first."""

    key: str  # "story-12", or "article-34" for an article not (yet) assigned a story
    story_id: int | None
    origin: str | None  # the original source the copies name (来源 新华社)
    entries: tuple[DigestEntry, ...]

    @property
    def headline(self) -> str:
        return self.entries[0].title

    @property
    def outlets(self) -> tuple[str, ...]:
        """The sites that published the story, in order of publication."""
        return tuple(dict.fromkeys(entry.site for entry in self.entries))

    @property
    def source_line(self) -> str | None:
        """Whom the story comes from: the story's origin, else what the copies name."""
        if self.origin:
            return self.origin
        named = list(dict.fromkeys(e.outlet for e in self.entries if e.outlet))
        return " / ".join(named) if named else None

    @property
    def latest(self) -> datetime:
        return max(entry.when for entry in self.entries)

    @property
    def lead(self) -> DigestEntry:
        """The entry whose snippet explains the match: the first new one that has one."""
        with_snippet = [e for e in self.entries if e.snippet]
        return next((e for e in with_snippet if not e.delivered),
                    with_snippet[0] if with_snippet else self.entries[0])

    @property
    def link(self) -> DigestEntry:
        """The copy the headline links to: the first new one (earlier ones were sent)."""
        return next((e for e in self.entries if not e.delivered), self.entries[0])

    @property
    def is_new(self) -> bool:
        return any(not entry.delivered for entry in self.entries)


@dataclass(frozen=True, slots=True)
class TopicGroup:
    topic: str
    stories: tuple[StoryGroup, ...]  # newest first

    @property
    def entries(self) -> tuple[DigestEntry, ...]:
        return tuple(entry for story in self.stories for entry in story.entries)

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(site for story in self.stories for site in story.outlets))


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    """An edit or takedown of a matched article (``newsmon revisit``), as a digest
    shows it: ``line`` is ``retitled: old → new`` or ``taken down 3 h after
    publication (HTTP 404)``; ``last_alive`` when a takedown's page was last seen."""

    check_id: int
    kind: str  # edited | taken_down
    title: str
    url: str
    site: str
    line: str
    seen_at: datetime
    last_alive: datetime | None


def change_entries(events: Sequence[WatchEvent]) -> tuple[ChangeEntry, ...]:
    return tuple(ChangeEntry(e.check_id, e.kind, e.title, e.url, e.site,
                             event_line(e.kind, e.changes, e.evidence, e.published_at,
                                        e.first_seen, e.checked_at),
                             e.checked_at, e.last_alive if e.kind == "taken_down" else None)
                 for e in events)


@dataclass(frozen=True, slots=True)
class Digest:
    """What one subscription is about to receive.

    ``since`` is when the previous digest was sent (None for the first one);
    ``alerts`` the sources that failed or went silent since then.
    """

    subscription: str
    generated_at: datetime
    zone: str
    groups: tuple[TopicGroup, ...]
    alerts: tuple[SourceAlert, ...] = ()
    since: datetime | None = None
    changes: tuple[ChangeEntry, ...] = ()  # edits and takedowns, their own section

    @property
    def event_ids(self) -> list[int]:
        return [change.check_id for change in self.changes]

    @property
    def match_ids(self) -> list[int]:
        """The matches this digest delivers (not those shown again from the ledger)."""
        return [e.match_id for g in self.groups for e in g.entries if not e.delivered]

    @property
    def is_empty(self) -> bool:
        """Nothing new: an empty digest is sent only to subscriptions with a heartbeat."""
        return not self.match_ids and not self.changes

    @property
    def story_count(self) -> int:
        return sum(1 for g in self.groups for s in g.stories if s.is_new)

    @property
    def key(self) -> str:
        """Identifies this digest's content: the same pending matches give the same key,
        so a receiver can drop a copy re-sent after a crash (webhook Idempotency-Key)."""
        ids = ",".join(str(i) for i in sorted(self.match_ids))
        if self.changes:
            ids += ";" + ",".join(str(i) for i in sorted(self.event_ids))
        return hashlib.sha256(f"{self.subscription}\n{ids}".encode()).hexdigest()[:32]

    @property
    def local_generated(self) -> str:
        return local_time(self.generated_at, self.zone)


def build_digest(subscription: str, pending: Sequence[PendingMatch], now: datetime, zone: str,
                 *, alerts: Sequence[SourceAlert] = (), since: datetime | None = None,
                 history: Sequence[PendingMatch] = ()) -> Digest:
    """Group ``pending`` by topic (in name order), then by story (newest story first).

    ``history`` are matches already delivered that should be shown again (the Atom
    feed's window); a match both pending and in history counts as pending.
    """
    pending_ids = {match.match_id for match in pending}
    matches = [*pending, *(m for m in history if m.match_id not in pending_ids)]
    by_topic: dict[str, dict[str, list[tuple[PendingMatch, DigestEntry]]]] = {}
    for match in matches:
        entry = _entry(match, zone, delivered=match.match_id not in pending_ids)
        stories = by_topic.setdefault(match.topic, {})
        stories.setdefault(_story_key(match), []).append((match, entry))
    groups = tuple(
        TopicGroup(topic, tuple(sorted((_story(key, copies) for key, copies in stories.items()),
                                       key=_newest_story_first)))
        for topic, stories in sorted(by_topic.items()))
    return Digest(subscription, now, zone, groups, tuple(alerts), since)


def _entry(match: PendingMatch, zone: str, delivered: bool) -> DigestEntry:
    return DigestEntry(
        match_id=match.match_id, article_id=match.article_id, title=match.title,
        url=match.url, outlet=match.source, site=match.site,
        published_at=match.published_at, first_seen=match.first_seen, zone=zone,
        snippet=match.snippet, variants=_variants(match.hits), delivered=delivered)


def _variants(hits: Iterable[dict[str, object]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(h["variant"]) for h in hits if h.get("variant")))


def _story_key(match: PendingMatch) -> str:
    if match.story_id is not None:
        return f"story-{match.story_id}"
    return f"article-{match.article_id}"


def _story(key: str, copies: list[tuple[PendingMatch, DigestEntry]]) -> StoryGroup:
    copies.sort(key=lambda pair: (pair[1].when, pair[1].match_id))
    first = copies[0][0]
    return StoryGroup(key=key, story_id=first.story_id, origin=first.story_origin,
                      entries=tuple(entry for _, entry in copies))


def _newest_story_first(story: StoryGroup) -> tuple[float, str]:
    return (-story.latest.timestamp(), story.key)


def highlight_segments(snippet: str, variants: Sequence[str]) -> list[tuple[str, bool]]:
    """Split ``snippet`` into (text, is_match) runs; at each position the longest variant
    wins, so 青島市 is marked whole rather than as 青島 + 市."""
    wanted = sorted({v for v in variants if v}, key=len, reverse=True)
    segments: list[tuple[str, bool]] = []
    plain_from = position = 0
    while position < len(snippet) and wanted:
        found = next((v for v in wanted if snippet.startswith(v, position)), None)
        if found is None:
            position += 1
            continue
        if plain_from < position:
            segments.append((snippet[plain_from:position], False))
        segments.append((found, True))
        position += len(found)
        plain_from = position
    if plain_from < len(snippet):
        segments.append((snippet[plain_from:], False))
    return segments


def highlight(snippet: str, variants: Sequence[str], start: str = "[", end: str = "]") -> str:
    """``snippet`` with every occurrence of a matched variant between ``start`` and ``end``."""
    return "".join(f"{start}{text}{end}" if hit else text
                   for text, hit in highlight_segments(snippet, variants))


def digest_subject(digest: Digest) -> str:
    """A one-line summary for an email subject or a chat message title."""
    if digest.is_empty:
        return f"newsmon · {digest.subscription}: no new matches"
    topics = [g.topic for g in digest.groups if any(s.is_new for s in g.stories)]
    shown = "、".join(topics[:3]) + (" …" if len(topics) > 3 else "")
    count = digest.story_count
    stories = f"{count} new stor{'y' if count == 1 else 'ies'}"
    return f"newsmon · {digest.subscription}: {stories} · {shown}"


def quiet_hours_end(quiet_hours: str | None, now: datetime, zone: str) -> datetime | None:
    """When ``now`` falls within ``quiet_hours`` ("22:00-07:00" in ``zone``), the moment
    they end; otherwise None. Digests are held, not dropped, until then."""
    if not quiet_hours:
        return None
    start_text, end_text = quiet_hours.split("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    if start == end:
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # over midnight: 22:00-07:00
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz)
