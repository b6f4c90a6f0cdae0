"""The JSON digest: the same content as the other formats, as data for programs.

``topics[].articles`` lists every new article flat (the shape ``newsmon digest --json``
has always had); ``topics[].stories`` groups them by story, referring to articles by
``match_id``, with ``earlier`` the story's copies sent in earlier digests; ``sources``
is the footer's source report.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from newsmon.digest import Digest, DigestEntry, StoryGroup, highlight_segments
from newsmon.digest.render.common import alert_text


def digest_as_json(digest: Digest) -> dict[str, Any]:
    zone = ZoneInfo(digest.zone)
    return {
        "subscription": digest.subscription,
        "generated_at": digest.generated_at.astimezone(zone).isoformat(),
        "zone": digest.zone,
        "since": digest.since.astimezone(zone).isoformat() if digest.since else None,
        "key": digest.key,
        "new_matches": len(digest.match_ids),
        "new_stories": digest.story_count,
        "topics": [
            {
                "topic": group.topic,
                "stories": [_story(story) for story in group.stories],
                "articles": [_article(entry, story) for story in group.stories
                             for entry in story.entries if not entry.delivered],
            }
            for group in digest.groups
        ],
        "sources": [
            {
                "source": alert.source, "kind": alert.kind, "crawls": alert.crawls,
                "failed_crawls": alert.failed_crawls, "errors": alert.errors,
                "last_crawl": alert.last_crawl.isoformat() if alert.last_crawl else None,
                "last_new_article": alert.last_new_article.isoformat()
                if alert.last_new_article else None,
                "message": alert_text(alert, digest.zone),
            }
            for alert in digest.alerts
        ],
        "changes": [
            {"kind": change.kind, "title": change.title, "url": change.url,
             "site": change.site, "text": change.line,
             "seen_at": change.seen_at.astimezone(zone).isoformat(),
             "last_alive": change.last_alive.astimezone(zone).isoformat()
             if change.last_alive else None}
            for change in digest.changes
        ],
    }


def _story(story: StoryGroup) -> dict[str, Any]:
    return {"key": story.key, "story_id": story.story_id, "origin": story.origin,
            "source": story.source_line, "headline": story.headline,
            "outlets": list(story.outlets),
            "match_ids": [e.match_id for e in story.entries if not e.delivered],
            "earlier": [_earlier(e) for e in story.entries if e.delivered]}


def _earlier(entry: DigestEntry) -> dict[str, Any]:
    """An article's fields; alone, a copy of the story sent in an earlier digest."""
    return {"match_id": entry.match_id, "article_id": entry.article_id, "title": entry.title,
            "url": entry.url, "source": entry.outlet, "site": entry.site,
            "published_at": _local_iso(entry)}


def _article(entry: DigestEntry, story: StoryGroup) -> dict[str, Any]:
    return {**_earlier(entry), "story": story.key, "snippet": entry.snippet,
            "matched": list(entry.variants), "highlights": _offsets(entry)}


def _local_iso(entry: DigestEntry) -> str | None:
    if entry.published_at is None:
        return None
    return entry.published_at.astimezone(ZoneInfo(entry.zone)).isoformat()


def _offsets(entry: DigestEntry) -> list[list[int]]:
    """``[start, end)`` of each highlighted run in ``snippet``."""
    spans, position = [], 0
    for text, hit in highlight_segments(entry.snippet, entry.variants):
        if hit:
            spans.append([position, position + len(text)])
        position += len(text)
    return spans
