"""Wording shared by every digest format: counts, the story line, the source report.

Formats differ in markup, not in what they say, so the sentences live here once.
"""

from __future__ import annotations

from newsmon.digest import ChangeEntry, Digest, DigestEntry, StoryGroup, TopicGroup
from newsmon.timefmt import local_time
from newsmon.values import SourceAlert

EARLIER = "in an earlier digest"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 story``, ``2 stories``: ``many`` is the plural when it is not ``word + "s"``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def stories(count: int) -> str:
    return plural(count, "story", "stories")


def digest_headline(digest: Digest) -> str:
    """``3 new stories · 5 articles · 2 topics``, or ``No new matches.``"""
    if digest.is_empty:
        return "No new matches."
    topics = sum(1 for g in digest.groups if any(s.is_new for s in g.stories))
    return (f"{stories(digest.story_count)} · {plural(len(digest.match_ids), 'article')} · "
            f"{plural(topics, 'topic')}")


def topic_summary(group: TopicGroup) -> str:
    """``2 stories · 3 outlets``."""
    return f"{stories(len(group.stories))} · {plural(len(group.outlets), 'outlet')}"


def story_summary(story: StoryGroup) -> str:
    """``1 story · 3 outlets · 来源 新华社`` for a republished story."""
    parts = ["1 story", plural(len(story.outlets), "outlet")]
    if story.source_line:
        parts.append(f"来源 {story.source_line}")
    return " · ".join(parts)


def entry_details(entry: DigestEntry, headline: str | None = None) -> str:
    """``来源 大衆網 · 2020-01-13 08:46 CST``, after the copy's own title when it differs
    from the story's ``headline``."""
    parts = [entry.title] if headline is not None and entry.title != headline else []
    parts += [f"来源 {entry.outlet}" if entry.outlet else "来源 unknown", entry.local_time]
    if entry.delivered:  # an earlier outlet of a story that has a new copy
        parts.append(EARLIER)
    return " · ".join(parts)


def entry_line(entry: DigestEntry, headline: str | None = None) -> str:
    """``dzwww · 来源 大衆網 · 2020-01-13 08:46 CST``."""
    return f"{entry.site} · {entry_details(entry, headline)}"


def sources_heading(digest: Digest) -> str:
    if digest.since is None:
        return "Sources"
    return f"Sources since the last digest ({local_time(digest.since, digest.zone)})"


def alert_text(alert: SourceAlert, zone: str) -> str:
    """One line about a source that failed, was not crawled, or went silent."""
    if alert.kind == "failed":
        errors = ", ".join(f"{kind} ×{count}" for kind, count in
                           sorted(alert.errors.items(), key=lambda kv: (-kv[1], kv[0])))
        detail = f" ({errors})" if errors else " (interrupted)"
        return (f"{alert.source}: {alert.failed_crawls} of {plural(alert.crawls, 'crawl')} "
                f"failed{detail}")
    if alert.kind == "not crawled":
        last = (f"last crawl {local_time(alert.last_crawl, zone)}" if alert.last_crawl
                else "never crawled")
        return f"{alert.source}: not crawled ({last})"
    newest = (f"no new article since {local_time(alert.last_new_article, zone)}"
              if alert.last_new_article else "no article stored yet")
    return f"{alert.source}: silent, {newest} ({plural(alert.crawls, 'crawl')})"


CHANGES_HEADING = "Edits and takedowns"


def change_text(change: ChangeEntry, zone: str) -> str:
    """``site: retitled: old → new`` / ``site: taken down 3 h after publication (HTTP
    404); last seen alive 05-13 09:12``."""
    alive = (f"; last seen alive {local_time(change.last_alive, zone)}"
             if change.last_alive else "")
    return f"{change.site}: {change.line}{alive}"
