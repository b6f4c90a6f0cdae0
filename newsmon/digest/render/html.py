"""The HTML digest: one self-contained page with inline CSS, fit for email clients.

Every crawled string (titles, outlets, snippets, URLs, topic names) goes through
:func:`esc` and links only ever point at http(s) URLs, so a page title such as
``<script>alert(1)</script>`` shows as text and a ``javascript:`` URL is not a link.
Styles are inline ``style`` attributes because many mail clients drop ``<style>``.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from newsmon.digest import (
    Digest,
    DigestEntry,
    StoryGroup,
    digest_subject,
    highlight_segments,
)
from newsmon.digest.render.common import (
    CHANGES_HEADING,
    alert_text,
    change_text,
    digest_headline,
    entry_details,
    sources_heading,
    story_summary,
    topic_summary,
)

FONT = ("-apple-system,BlinkMacSystemFont,'Segoe UI','PingFang SC','Hiragino Sans GB',"
        "'Microsoft YaHei','Noto Sans CJK SC',sans-serif")
STYLE = {
    "body": "margin:0;padding:0;background:#f3f4f6;",
    "page": f"max-width:680px;margin:0 auto;padding:24px 16px;font-family:{FONT};"
            "color:#1f2328;line-height:1.55;",
    "h1": "font-size:20px;margin:0 0 4px 0;",
    "lede": "margin:0 0 20px 0;color:#57606a;font-size:14px;",
    "topic": "margin:0 0 24px 0;",
    "h2": "font-size:18px;margin:0 0 10px 0;padding:0 0 6px 0;border-bottom:2px solid #0969da;",
    "count": "font-weight:normal;color:#57606a;font-size:14px;",
    "story": "background:#ffffff;border:1px solid #d0d7de;border-radius:6px;"
             "padding:12px 14px;margin:0 0 10px 0;",
    "h3": "font-size:16px;margin:0 0 4px 0;",
    "a": "color:#0969da;text-decoration:none;",
    "meta": "margin:0 0 6px 0;color:#57606a;font-size:13px;",
    "copies": "margin:0 0 6px 0;padding:0 0 0 18px;color:#57606a;font-size:13px;",
    "snippet": "margin:0;font-size:14px;color:#24292f;",
    "mark": "background:#fff1a8;color:#1f2328;padding:0 1px;",
    "footer": "margin:24px 0 0 0;padding:10px 14px;background:#fff8c5;"
              "border:1px solid #d4a72c;border-radius:6px;font-size:13px;",
    "alerts": "margin:6px 0 0 0;padding:0 0 0 18px;",
}


def esc(text: str) -> str:
    """Escape text for an element body or a quoted attribute."""
    return html.escape(text, quote=True)


def safe_href(url: str) -> str | None:
    """``url`` when it is an http(s) URL (escaped for an attribute), else None."""
    if urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
        return None
    return esc(url.strip())


def link(url: str, label: str) -> str:
    href = safe_href(url)
    if href is None:
        return esc(label)
    return f'<a href="{href}" style="{STYLE["a"]}">{esc(label)}</a>'


def render_html(digest: Digest) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{esc(digest_subject(digest))}</title></head>",
        f'<body style="{STYLE["body"]}"><div style="{STYLE["page"]}">',
        f'<h1 style="{STYLE["h1"]}">newsmon · {esc(digest.subscription)}</h1>',
        f'<p class="lede" style="{STYLE["lede"]}">{esc(digest_headline(digest))} · '
        f"{esc(digest.local_generated)}</p>",
    ]
    parts.extend(_topic(group.topic, topic_summary(group), group.stories)
                 for group in digest.groups)
    if digest.changes:
        items = "".join(f"<li>{link(c.url, c.title)}<br>{esc(change_text(c, digest.zone))}</li>"
                        for c in digest.changes)
        parts.append(f'<section class="changes" style="{STYLE["topic"]}">'
                     f'<h2 style="{STYLE["h2"]}">{esc(CHANGES_HEADING)}</h2>'
                     f'<ul style="{STYLE["alerts"]}">{items}</ul></section>')
    if digest.alerts:
        items = "".join(f"<li>{esc(alert_text(a, digest.zone))}</li>" for a in digest.alerts)
        parts.append(f'<div class="sources" style="{STYLE["footer"]}">'
                     f"<strong>{esc(sources_heading(digest))}</strong>"
                     f'<ul style="{STYLE["alerts"]}">{items}</ul></div>')
    parts.append("</div></body></html>\n")
    return "\n".join(parts)


def _topic(topic: str, summary: str, stories: tuple[StoryGroup, ...]) -> str:
    body = "\n".join(_story(story) for story in stories)
    return (f'<section class="topic" data-topic="{esc(topic)}" style="{STYLE["topic"]}">\n'
            f'<h2 style="{STYLE["h2"]}">{esc(topic)} '
            f'<span style="{STYLE["count"]}">{esc(summary)}</span></h2>\n{body}\n</section>')


def _story(story: StoryGroup) -> str:
    first = story.entries[0]
    parts = [f'<article class="story" data-story="{esc(story.key)}" style="{STYLE["story"]}">',
             f'<h3 style="{STYLE["h3"]}">{link(story.link.url, story.headline)}</h3>']
    if len(story.entries) == 1:
        parts.append(f'<p class="meta" style="{STYLE["meta"]}">{esc(first.site)} · '
                     f"{esc(entry_details(first))}</p>")
    else:
        copies = "".join(_copy(entry, story.headline) for entry in story.entries)
        parts.append(f'<p class="meta" style="{STYLE["meta"]}">{esc(story_summary(story))}</p>'
                     f'<ul class="outlets" style="{STYLE["copies"]}">{copies}</ul>')
    lead = story.lead
    if lead.snippet:
        parts.append(f'<p class="snippet" style="{STYLE["snippet"]}">'
                     f"{highlighted(lead.snippet, lead.variants)}</p>")
    parts.append("</article>")
    return "".join(parts)


def _copy(entry: DigestEntry, headline: str) -> str:
    site = esc(entry.site) if entry.delivered else link(entry.url, entry.site)
    return f"<li>{site} · {esc(entry_details(entry, headline))}</li>"


def highlighted(snippet: str, variants: tuple[str, ...], tag: str = "mark") -> str:
    """The snippet, escaped, with the matched variants in ``<mark>`` (or ``tag``)."""
    opening = f'<mark style="{STYLE["mark"]}">' if tag == "mark" else f"<{tag}>"
    return "".join(f"{opening}{esc(text)}</{tag}>" if hit else esc(text)
                   for text, hit in highlight_segments(snippet, variants))
