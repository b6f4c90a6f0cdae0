"""The plain-text digest: what ``newsmon digest`` prints and the text part of an email."""

from __future__ import annotations

from newsmon.digest import Digest, StoryGroup, highlight
from newsmon.digest.render.common import (
    CHANGES_HEADING,
    alert_text,
    change_text,
    digest_headline,
    entry_line,
    sources_heading,
    story_summary,
    topic_summary,
)
from newsmon.sanitise import clean_text


def render_text(digest: Digest) -> str:
    """Topics as ``== name · counts ==`` blocks, one ``*`` item per story; matched
    words in ``[brackets]``; the source report last."""
    lines = [f"newsmon digest · {digest.subscription} · {digest.local_generated}",
             digest_headline(digest), ""]
    for group in digest.groups:
        lines.append(f"== {group.topic} · {topic_summary(group)} ==")
        lines.append("")
        for story in group.stories:
            lines.extend(_story_lines(story))
            lines.append("")
    if digest.changes:
        lines.append(f"== {CHANGES_HEADING} ==")
        lines.append("")
        for change in digest.changes:
            lines += [f"* {change.title}", f"  {change_text(change, digest.zone)}",
                      f"  {change.url}", ""]
    if digest.alerts:
        lines.append(f"-- {sources_heading(digest)} --")
        lines.extend(f"! {alert_text(alert, digest.zone)}" for alert in digest.alerts)
        lines.append("")
    # crawled titles and snippets: no escape sequences or controls reach a terminal
    return clean_text("\n".join(lines))


def _story_lines(story: StoryGroup) -> list[str]:
    lines = [f"* {story.headline}"]
    if len(story.entries) == 1:
        [entry] = story.entries
        lines += [f"  {entry_line(entry)}", f"  {entry.url}"]
    else:
        lines.append(f"  {story_summary(story)}")
        for entry in story.entries:
            lines.append(f"  - {entry_line(entry, story.headline)}")
            if not entry.delivered:  # an earlier copy's link went out with it
                lines.append(f"    {entry.url}")
    lead = story.lead
    if lead.snippet:
        lines.append(f"  {highlight(lead.snippet, lead.variants)}")
    return lines
