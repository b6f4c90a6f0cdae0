"""The Markdown digest, for chat apps (WeCom, DingTalk, Feishu, Telegram …) and files.

Every crawled string is escaped, so a title with ``*`` or ``[`` cannot restyle the
message or forge a link; URLs are percent-encoded where Markdown would end them.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from newsmon.digest import Digest, DigestEntry, StoryGroup, highlight_segments
from newsmon.digest.render.common import (
    CHANGES_HEADING,
    alert_text,
    change_text,
    digest_headline,
    entry_details,
    entry_line,
    sources_heading,
    story_summary,
    topic_summary,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!])")
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"  # RFC 3986 characters that cannot end a Markdown link


def escape(text: str) -> str:
    """``text`` with Markdown punctuation backslash-escaped, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def link_target(url: str) -> str:
    """``url`` made safe inside ``(...)``: parentheses, spaces and brackets encoded."""
    return quote(url, safe=_URL_SAFE)


def render_markdown(digest: Digest) -> str:
    lines = [f"**newsmon · {escape(digest.subscription)}** · {escape(digest.local_generated)}",
             "", escape(digest_headline(digest)), ""]
    for group in digest.groups:
        lines.append(f"### {escape(group.topic)} · {escape(topic_summary(group))}")
        lines.append("")
        for story in group.stories:
            lines.extend(_story_lines(story))
        lines.append("")
    if digest.changes:
        lines += [f"### {CHANGES_HEADING}", ""]
        lines += [f"- **[{escape(change.title)}]({link_target(change.url)})**  \n"
                  f"  {escape(change_text(change, digest.zone))}" for change in digest.changes]
        lines.append("")
    if digest.alerts:
        lines.append(f"**{escape(sources_heading(digest))}**")
        lines.append("")
        lines.extend(f"- ⚠ {escape(alert_text(alert, digest.zone))}" for alert in digest.alerts)
        lines.append("")
    return "\n".join(lines)


def _story_lines(story: StoryGroup) -> list[str]:
    first = story.entries[0]
    lines = [f"- **[{escape(story.headline)}]({link_target(story.link.url)})**  "]
    if len(story.entries) == 1:
        lines.append(f"  {escape(entry_line(first))}  ")
    else:
        lines.append(f"  {escape(story_summary(story))}  ")
        lines.extend(f"  {_site(entry)} · {escape(entry_details(entry, story.headline))}  "
                     for entry in story.entries)
    lead = story.lead
    if lead.snippet:
        lines.append(f"  {highlighted(lead.snippet, lead.variants)}")
    return lines


def _site(entry: DigestEntry) -> str:
    """The copy's site, linked unless the copy went out in an earlier digest."""
    if entry.delivered:
        return escape(entry.site)
    return f"[{escape(entry.site)}]({link_target(entry.url)})"


def highlighted(snippet: str, variants: tuple[str, ...]) -> str:
    return "".join(f"**{escape(text)}**" if hit else escape(text)
                   for text, hit in highlight_segments(snippet, variants))
