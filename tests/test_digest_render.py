"""Building and rendering digests: pure functions over plain values.

Grouping (topic, then story), highlighting, quiet hours, and every format — with a
title carrying ``<script>`` that must stay inert in HTML and Atom, an Atom feed that
feedparser reads without complaint, and the HTML digest rendered by headless
Chromium showing its topic groups.
"""

from __future__ import annotations

import ast
import json
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest

from newsmon.digest import (
    Digest,
    build_digest,
    digest_subject,
    highlight,
    highlight_segments,
    quiet_hours_end,
)
from newsmon.digest.render import (
    FORMATS,
    digest_as_json,
    render,
    render_atom_feeds,
    render_html,
    render_markdown,
    render_text,
)
from newsmon.digest.render.markdown import escape as md_escape
from newsmon.values import PendingMatch, SourceAlert
from tests.digest_support import XSS_TITLE

NOW = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
CST = timezone(timedelta(hours=8))
ZONE = "Asia/Shanghai"


def pending(match_id: int, topic: str, title: str, site: str, hour: int, *,
            story: int | None = None, origin: str | None = None, outlet: str | None = "大衆網",
            snippet: str = "", variant: str = "青島") -> PendingMatch:
    return PendingMatch(
        match_id=match_id, topic=topic, article_id=100 + match_id, title=title,
        url=f"http://{site}.example/{match_id}.html", source=outlet, site=site,
        published_at=datetime(2024, 5, 1, hour, 0, tzinfo=CST), first_seen=NOW,
        snippet=snippet or f"今天{variant}有新聞。",
        hits=[{"term": topic, "variant": variant, "field": "body", "start": 2, "end": 4}],
        story_id=story, story_origin=origin)


REPUBLISHED = [
    pending(1, "青島", "青島港開通新航線", "dzwww", 9, story=7, origin="新華社", outlet="新華社"),
    pending(2, "青島", "青岛港开通新航线", "bandao", 10, story=7, origin="新華社",
            outlet="新华社", variant="青岛"),
    pending(3, "青島", "青岛港开通新航线", "qingdaonews", 11, story=7, origin="新華社",
            outlet="新华社", variant="青岛"),
    pending(4, "青島", "島城地鐵六號線開通", "qingdaonews", 8),
    pending(5, "烟台", "烟台苹果节开幕", "bandao", 7, outlet="半岛网", variant="烟台"),
]


def digest_of(matches: list[PendingMatch], **kwargs: Any) -> Digest:
    return build_digest("desk", matches, NOW, ZONE, **kwargs)


def test_groups_by_topic_then_story_and_a_republished_story_appears_once() -> None:
    digest = digest_of(REPUBLISHED)
    assert [g.topic for g in digest.groups] == ["烟台", "青島"]
    qingdao = digest.groups[1]
    assert [s.key for s in qingdao.stories] == ["story-7", "article-104"]  # newest first
    story = qingdao.stories[0]
    assert story.outlets == ("dzwww", "bandao", "qingdaonews")
    assert [e.match_id for e in story.entries] == [1, 2, 3]  # the original first
    assert story.headline == "青島港開通新航線"  # original script kept
    assert digest.match_ids == [5, 1, 2, 3, 4]
    assert digest.story_count == 3

    text = render_text(digest)
    assert text.count("青島港開通新航線") == 1
    assert "1 story · 3 outlets · 来源 新華社" in text
    assert "  - bandao · 青岛港开通新航线 · 来源 新华社 · 2024-05-01 10:00 CST" in text
    assert "== 青島 · 2 stories · 3 outlets ==" in text
    assert "  qingdaonews · 来源 大衆網 · 2024-05-01 08:00 CST" in text


def test_articles_without_a_story_are_stories_of_their_own() -> None:
    unassigned = [replace(m, story_id=None) for m in REPUBLISHED[:3]]
    digest = digest_of(unassigned)
    assert [len(s.entries) for s in digest.groups[0].stories] == [1, 1, 1]


@pytest.mark.parametrize(("snippet", "variants", "expected"), [
    ("今天青島有新聞", ["青島"], "今天[青島]有新聞"),
    ("青島市和青島", ["青島", "青島市"], "[青島市]和[青島]"),  # longest variant wins
    ("青岛青島", ["青島", "青岛"], "[青岛][青島]"),
    ("nothing here", ["青島"], "nothing here"),
    ("", ["青島"], ""),
    ("abc", [], "abc"),
])
def test_highlight_marks_every_matched_variant(snippet: str, variants: list[str],
                                               expected: str) -> None:
    assert highlight(snippet, variants) == expected
    assert "".join(text for text, _ in highlight_segments(snippet, variants)) == snippet


@pytest.mark.parametrize(("quiet", "local_now", "until"), [
    ("22:00-07:00", "23:30", "2024-05-02 07:00"),
    ("22:00-07:00", "02:00", "2024-05-01 07:00"),
    ("22:00-07:00", "07:00", None),
    ("22:00-07:00", "21:59", None),
    ("12:00-14:00", "13:00", "2024-05-01 14:00"),
    ("12:00-14:00", "14:00", None),
    (None, "03:00", None),
])
def test_quiet_hours_hold_until_they_end(quiet: str | None, local_now: str,
                                         until: str | None) -> None:
    now = datetime.fromisoformat(f"2024-05-01 {local_now}").replace(tzinfo=CST)
    end = quiet_hours_end(quiet, now, ZONE)
    assert (end.strftime("%Y-%m-%d %H:%M") if end else None) == until
    if end is not None:
        assert end.utcoffset() == timedelta(hours=8)


def test_the_footer_names_failed_silent_and_uncrawled_sources() -> None:
    alerts = [
        SourceAlert("dzwww", "failed", crawls=3, failed_crawls=2,
                    errors={"http_404": 5, "timeout": 1}),
        SourceAlert("bandao", "silent", crawls=4,
                    last_new_article=datetime(2024, 4, 28, 1, 0, tzinfo=UTC)),
        SourceAlert("wenweipo", "not crawled", last_crawl=None),
    ]
    digest = digest_of(REPUBLISHED, alerts=alerts, since=NOW - timedelta(days=1))
    text = render_text(digest)
    assert "-- Sources since the last digest (2024-05-01 08:00 CST) --" in text
    assert "! dzwww: 2 of 3 crawls failed (http_404 ×5, timeout ×1)" in text
    assert "! bandao: silent, no new article since 2024-04-28 09:00 CST (4 crawls)" in text
    assert "! wenweipo: not crawled (never crawled)" in text
    assert "wenweipo: not crawled" in render_html(digest)
    assert [s["kind"] for s in digest_as_json(digest)["sources"]] == [
        "failed", "silent", "not crawled"]


def test_an_empty_digest_says_so_in_every_format() -> None:
    digest = digest_of([])
    assert digest.is_empty and digest.match_ids == []
    assert "No new matches." in render_text(digest)
    assert digest_subject(digest) == "newsmon · desk: no new matches"
    for fmt in FORMATS:
        render(digest, fmt)  # nothing to group is not an error


def test_json_keeps_the_flat_article_list_and_adds_stories() -> None:
    data = json.loads(render(digest_of(REPUBLISHED), "json"))
    qingdao = data["topics"][1]
    assert [a["match_id"] for a in qingdao["articles"]] == [1, 2, 3, 4]
    assert qingdao["stories"][0] == {
        "key": "story-7", "story_id": 7, "origin": "新華社", "source": "新華社",
        "headline": "青島港開通新航線", "outlets": ["dzwww", "bandao", "qingdaonews"],
        "match_ids": [1, 2, 3], "earlier": []}
    first = qingdao["articles"][0]
    assert first["published_at"] == "2024-05-01T09:00:00+08:00"
    start, end = first["highlights"][0]
    assert first["snippet"][start:end] == "青島"
    assert data["new_matches"] == 5 and data["new_stories"] == 3


class _Elements(HTMLParser):
    """Collects the tags and attributes a browser would build from the markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements(markup: str) -> _Elements:
    parser = _Elements()
    parser.feed(markup)
    return parser


HOSTILE = [
    pending(1, "青島<b>", XSS_TITLE, "dzwww", 9,
            snippet="青島<img src=x onerror=alert(2)>港", outlet="<i>大衆網</i>"),
    replace(pending(2, "青島<b>", "javascript link", "dzwww", 8), url="javascript:alert(3)"),
]


def test_a_script_in_a_title_is_inert_in_the_html_digest() -> None:
    page = render_html(digest_of(HOSTILE))
    parsed = elements(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert "i" not in parsed.tags
    assert XSS_TITLE in "".join(parsed.text)  # shown as text, exactly as published
    assert not any(href.startswith("javascript:") for href in parsed.hrefs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_markdown_escapes_crawled_text_and_links() -> None:
    tricky = replace(REPUBLISHED[3], title="*粗體* [假連結](http://evil.example) _x_",
                     url="http://qd.example/a (1).html")
    markdown = render_markdown(digest_of([tricky]))
    assert r"\*粗體\* \[假連結\](http://evil.example) \_x\_" in markdown
    assert "(http://qd.example/a%20%281%29.html)" in markdown
    assert md_escape("a|b<c>") == r"a\|b\<c\>"


def test_the_atom_feed_parses_cleanly_with_one_entry_per_story() -> None:
    feeds = render_atom_feeds(digest_of(REPUBLISHED))
    assert set(feeds) == {"青島", "烟台"}
    parsed = feedparser.parse(feeds["青島"])
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.title == "newsmon · desk · 青島"
    assert [e.title for e in parsed.entries] == ["青島港開通新航線", "島城地鐵六號線開通"]
    story = parsed.entries[0]
    assert story.id.endswith(":story-7")
    assert story.link == "http://dzwww.example/1.html"
    assert "1 story · 3 outlets · 来源 新華社" in story.content[0].value
    assert "<strong>青島</strong>" in story.content[0].value


def test_a_script_in_a_title_is_inert_in_the_atom_feed() -> None:
    feed_xml = render_atom_feeds(digest_of(HOSTILE))["青島<b>"]
    root = ET.fromstring(feed_xml)
    assert not [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] in ("script", "img", "b")]
    parsed = feedparser.parse(feed_xml)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    entry = parsed.entries[0]  # newest first: the 09:00 one
    assert entry.title == XSS_TITLE  # type="text": the characters, not markup
    content = entry.content[0].value
    inside = elements(content)
    assert "script" not in inside.tags and "img" not in inside.tags
    assert "<script" not in feed_xml and "&lt;script&gt;alert(1)" in feed_xml
    assert not any(href.startswith("javascript:") for href in elements(
        parsed.entries[1].content[0].value).hrefs)
    assert "javascript:" not in [link.href for link in parsed.entries[1].get("links", [])]


def test_characters_xml_forbids_are_dropped_from_the_feed() -> None:
    broken = replace(REPUBLISHED[3], title="控制\x01字符\x0b標題")
    feed_xml = render_atom_feeds(digest_of([broken]))["青島"]
    parsed = feedparser.parse(feed_xml)
    assert parsed.bozo == 0 and parsed.entries[0].title == "控制字符標題"


ROOT = Path(__file__).resolve().parents[1]
IO_LAYERS = ("sqlalchemy", "newsmon.storage", "socket", "smtplib", "urllib.request", "http",
             "apprise", "requests", "subprocess")


def runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports when it runs (``if TYPE_CHECKING:`` blocks skipped)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def is_io(module: str) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in IO_LAYERS)


def test_building_and_rendering_touch_no_network_or_database() -> None:
    pure = sorted((ROOT / "newsmon" / "digest").rglob("*.py"))
    offenders = {str(p.relative_to(ROOT)): sorted(filter(is_io, runtime_imports(p)))
                 for p in pure}
    assert {name: bad for name, bad in offenders.items() if bad} == {}
    assert is_io("newsmon.storage.matches") and is_io("urllib.request")
    assert not is_io("urllib.parse")


# --------------------------------------------------------------------------------------
# The HTML digest in a real browser

CHROMIUM = "/usr/bin/chromium"
WINDOW = (900, 1400)


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is required (apt-get install chromium; .ci/run installs it)")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
               *extra, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class _RenderedDom(HTMLParser):
    """The topic sections and story cards in Chromium's serialised DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.topics: list[str] = []
        self.stories: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section" and "topic" in (values.get("class") or ""):
            self.topics.append(values.get("data-topic") or "")
        if tag == "article" and "story" in (values.get("class") or ""):
            self.stories.append(values.get("data-story") or "")
        self.scripts += tag == "script"


def test_headless_chromium_shows_the_topic_groups(tmp_path: Path) -> None:
    page = tmp_path / "digest.html"
    page.write_text(render_html(digest_of([*REPUBLISHED, *HOSTILE])), encoding="utf-8")
    dom = _RenderedDom()
    dom.feed(chromium(page.as_uri(), tmp_path / "profile", "--dump-dom").stdout)
    assert dom.topics == ["烟台", "青島", "青島<b>"]
    assert dom.stories[:3] == ["article-105", "story-7", "article-104"]
    assert dom.scripts == 0  # the hostile title did not become a script element

    shot, blank_shot = tmp_path / "digest.png", tmp_path / "blank.png"
    chromium(page.as_uri(), tmp_path / "profile", f"--screenshot={shot}")
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    chromium(blank.as_uri(), tmp_path / "profile", f"--screenshot={blank_shot}")
    assert png_size(shot) == WINDOW
    # A page with text, cards and colours compresses far worse than an empty one.
    assert shot.stat().st_size > 5 * blank_shot.stat().st_size
