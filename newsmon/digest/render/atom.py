"""Atom feeds, one per topic (RFC 4287), for feed readers.

An entry is a story: its id is stable (``urn:newsmon:<subscription>:<topic>:<story>``),
so when another outlet republishes it the reader sees the same entry updated, not a
new one. Titles and summaries are ``type="text"``; the content is ``type="html"``
made by the HTML format's escaping, then escaped again by the XML writer, so crawled
markup can never become live elements. Characters XML 1.0 forbids are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import quote

from newsmon.digest import Digest, StoryGroup, TopicGroup
from newsmon.digest.render.common import story_summary
from newsmon.digest.render.html import esc, highlighted, link, safe_href

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _XML_INVALID.sub("", text)


def render_atom_feeds(digest: Digest) -> dict[str, str]:
    """Topic name -> the topic's Atom feed document."""
    return {group.topic: render_atom(digest, group) for group in digest.groups}


def render_atom(digest: Digest, group: TopicGroup) -> str:
    feed = ET.Element("feed", xmlns=ATOM_NS)
    feed_id = f"urn:newsmon:{quote(digest.subscription, safe='')}:{quote(group.topic, safe='')}"
    _text(feed, "id", feed_id)
    _text(feed, "title", f"newsmon · {digest.subscription} · {group.topic}")
    _text(feed, "updated", _stamp(max([digest.generated_at,
                                       *(s.latest for s in group.stories)])))
    author = ET.SubElement(feed, "author")
    _text(author, "name", "newsmon")
    generator = _text(feed, "generator", "newsmon")
    generator.set("uri", "https://github.com/newsmon/newsmon")
    for story in group.stories:
        _entry(feed, f"{feed_id}:{story.key}", story, digest.zone)
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def _entry(feed: ET.Element, entry_id: str, story: StoryGroup, zone: str) -> None:
    entry = ET.SubElement(feed, "entry")
    _text(entry, "id", entry_id)
    _text(entry, "title", story.headline).set("type", "text")
    first = story.entries[0]
    href = safe_href(first.url)
    if href is not None:
        ET.SubElement(entry, "link", rel="alternate", href=first.url.strip())
    _text(entry, "published", _stamp(first.when))
    _text(entry, "updated", _stamp(story.latest))
    lead = story.lead
    if lead.snippet:
        _text(entry, "summary", lead.snippet).set("type", "text")
    _text(entry, "content", _content_html(story, zone)).set("type", "html")


def _content_html(story: StoryGroup, zone: str) -> str:
    copies = "".join(
        f"<li>{link(entry.url, entry.site)} · {esc(entry.outlet or 'unknown')} · "
        f"{esc(entry.local_time)}</li>" for entry in story.entries)
    lead = story.lead
    # <strong>, not <mark>: feed readers' sanitisers (feedparser's too) drop <mark>.
    snippet = (f"<p>{highlighted(lead.snippet, lead.variants, 'strong')}</p>"
               if lead.snippet else "")
    summary = f"<p>{esc(story_summary(story))}</p>" if len(story.entries) > 1 else ""
    return f"{summary}<ul>{copies}</ul>{snippet}"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = xml_text(text)
    return element


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
