"""Versions and takedowns of watched articles: pure classification, no I/O.

A *re-visit* fetches a stored article again. What the fetch found goes in as a
:class:`FetchEvidence` (built at the edge, in ``crawler/revisit.py``); what it means
comes out of :func:`classify_fetch` as a :class:`Verdict`:

* ``not_modified`` (304) or ``unchanged``: nothing to store but "last checked";
* ``edited``: the title, body, 来源, author/editor or publish time changed; a
  :class:`VersionDiff` says how (retitled, body edited with the share of characters
  changed, 来源 changed, time changed);
* ``cosmetic``: only the script (Traditional ↔ Simplified) or whitespace changed —
  the text is kept as a new version, but it is not an edit and no event;
* ``taken_down``: 404/410/451, a redirect to the site's home or a channel page, a
  soft-404 page (页面不存在, 該頁面不存在, 已删除 …) or a page that is no longer an
  article, with the evidence;
* ``failed``: 5xx, 403/429, a timeout or refused connection — never a takedown; the
  caller counts these in a row and calls the article ``unreachable`` after several.

Text is compared through :func:`newsmon.textnorm.normalize`, the same key topics and
search use, so 青島 and 青岛 are the same text here too.

The schedule of re-visits (:func:`next_step`) is here as well: offsets after the
article was first seen, decaying (+1 h, +6 h, +1 d, +3 d, +7 d by default).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from newsmon.textnorm import normalize

# A publish time that moved less than this is the same time read twice.
TIME_TOLERANCE = timedelta(minutes=1)
GONE_STATUSES = frozenset({404, 410, 451})

# Soft-404 wording, compared on the normalised key (so the Traditional forms —
# 頁面不存在, 已刪除 — match too). Looked for in the page title and headline, or in
# the text of a page that is not an article: a story may quote "已删除" in its body.
SOFT_404_PHRASES = tuple(normalize(p) for p in (
    "页面不存在", "该页面不存在", "页面已删除", "文章已删除", "内容已删除", "已被删除",
    "已删除", "文章不存在", "内容不存在", "稿件不存在", "新闻不存在", "页面找不到",
    "找不到该页面", "找不到页面", "您访问的页面不存在", "信息已下线", "内容已下线",
    "页面已下线", "404 not found", "page not found",
))
_WHITESPACE = re.compile(r"\s+")
# A path that is a site's front page or a channel's index, not one article's page.
_INDEX_PATH = re.compile(r"/(?:index|default|home)?(?:\.s?html?|\.php|\.aspx?)?$", re.IGNORECASE)


# -- the text of one version ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The watched fields of one version of an article."""

    title: str
    body: str
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    published_at: datetime | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 over every watched field exactly as published (a script-only
        change is a new hash, and a new version)."""
        parts = (self.title, self.body, self.source or "", self.author or "",
                 self.editor or "", self.published_at.isoformat() if self.published_at else "")
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """How one field changed: ``kind`` is ``edited``, ``script`` (Traditional ↔
    Simplified, width, case) or ``whitespace``; ``share`` the share of characters
    changed (title and body), ``old``/``new`` short forms for people."""

    name: str  # title | body | source | author | editor | published_at
    kind: str
    old: str = ""
    new: str = ""
    share: float = 0.0

    def as_dict(self) -> dict[str, str | float]:
        return {"field": self.name, "kind": self.kind, "old": self.old, "new": self.new,
                "share": round(self.share, 4)}


@dataclass(frozen=True, slots=True)
class VersionDiff:
    changes: tuple[FieldChange, ...] = ()

    @property
    def unchanged(self) -> bool:
        return not self.changes

    @property
    def is_edit(self) -> bool:
        """Something a reader would call an edit: not only script or whitespace."""
        return any(change.kind == "edited" for change in self.changes)

    @property
    def cosmetic_kind(self) -> str | None:
        """``script`` or ``whitespace`` for a change that is only that (script wins)."""
        if self.unchanged or self.is_edit:
            return None
        return "script" if any(c.kind == "script" for c in self.changes) else "whitespace"

    def summary(self) -> str:
        """``retitled: old → new; body edited (12% of characters)``."""
        return "; ".join(describe_change(change) for change in self.changes)


def describe_change(change: FieldChange) -> str:
    if change.kind != "edited":
        what = "script only (Traditional ↔ Simplified)" if change.kind == "script" else \
            "whitespace only"
        return f"{change.name}: {what}"
    if change.name == "title":
        return f"retitled: {change.old} → {change.new}"
    if change.name == "body":
        return f"body edited ({change.share:.0%} of characters changed)"
    label = {"source": "来源", "published_at": "time"}.get(change.name, change.name)
    return f"{label} changed: {change.old or '—'} → {change.new or '—'}"


def _squeeze(text: str) -> str:
    return _WHITESPACE.sub("", text)


def changed_share(old: str, new: str) -> float:
    """Share of characters changed between two normalised texts (0 … 1)."""
    if old == new:
        return 0.0
    if not old or not new:
        return 1.0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return 1.0 - same / max(len(old), len(new))


def text_change(name: str, old: str, new: str) -> FieldChange | None:
    """How text field ``name`` changed, or None when it did not."""
    if old == new:
        return None
    if _squeeze(old) == _squeeze(new):
        return FieldChange(name, "whitespace")
    old_key, new_key = normalize(old), normalize(new)
    if _squeeze(old_key) == _squeeze(new_key):
        return FieldChange(name, "script")
    share = changed_share(old_key, new_key)
    shown = (old, new) if name != "body" else ("", "")
    return FieldChange(name, "edited", *shown, share=share)


def _label_change(name: str, old: str | None, new: str | None) -> FieldChange | None:
    if (old or "") == (new or ""):
        return None
    if normalize(old or "") == normalize(new or ""):
        return FieldChange(name, "script")
    return FieldChange(name, "edited", old or "", new or "")


def _time_change(old: datetime | None, new: datetime | None) -> FieldChange | None:
    # A time that is no longer found is not a new time: evidence comes and goes
    # (a relative "3小时前" byline ages out), the article did not change for that.
    if old is None or new is None or abs(old - new) < TIME_TOLERANCE:
        return None
    return FieldChange("published_at", "edited", old.isoformat(), new.isoformat())


def diff_versions(old: Snapshot, new: Snapshot) -> VersionDiff:
    """What changed from ``old`` to ``new``, field by field."""
    found = (
        text_change("title", old.title, new.title),
        text_change("body", old.body, new.body),
        _label_change("source", old.source, new.source),
        _label_change("author", old.author, new.author),
        _label_change("editor", old.editor, new.editor),
        _time_change(old.published_at, new.published_at),
    )
    return VersionDiff(tuple(change for change in found if change is not None))


# -- what a fetch means -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchEvidence:
    """What one re-visit fetch got, as the edge saw it.

    ``status`` is None when no answer came (timeout, refused: ``error`` names it).
    ``final_url`` is where redirects led; ``headline`` the page's ``<title>`` / first
    heading; ``text_head`` the start of its visible text; ``article`` what the
    extractor read when the page is an article (None otherwise, with
    ``not_article_reason``).
    """

    requested_url: str
    status: int | None
    final_url: str = ""
    error: str | None = None
    headline: str = ""
    text_head: str = ""
    article: Snapshot | None = None
    not_article_reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    page_hash: str | None = None  # SHA-256 of the raw bytes, for identical pages


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a re-visit found: ``outcome`` and, for edits, the diff."""

    outcome: str  # not_modified | unchanged | edited | cosmetic | taken_down | failed
    evidence: str = ""
    diff: VersionDiff = field(default_factory=VersionDiff)
    snapshot: Snapshot | None = None  # the page's text, when it is an article


def is_front_or_channel(url: str, start_urls: Sequence[str]) -> bool:
    """Whether ``url`` is a site's home page or one of its channel/list pages.

    A list page the source crawls is one by definition; otherwise a path that is a
    directory or an index file (``/``, ``/news/``, ``/xinwen/index.htm``).
    """
    starts = {_without_query(u) for u in start_urls}
    if _without_query(url) in starts:
        return True
    path = urlsplit(url).path or "/"
    return bool(_INDEX_PATH.search(path)) and "/" in path and _is_index_like(path)


def _is_index_like(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return last == "" or bool(re.fullmatch(r"(?:index|default|home)(?:\.\w+)?", last,
                                           re.IGNORECASE))


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path or '/'}"


def soft_404_phrase(text: str) -> str | None:
    key = normalize(text)
    return next((phrase for phrase in SOFT_404_PHRASES if phrase in key), None)


def article_content_hash(title_norm: str, body_norm: str) -> str:
    """``articles.content_hash`` of a version (the crawl's formula, in
    ``crawler/normalise.py``; a test keeps the two equal)."""
    return hashlib.sha256(f"{title_norm}\n{body_norm}".encode()).hexdigest()


def classify_fetch(evidence: FetchEvidence, stored: Snapshot,
                   start_urls: Sequence[str] = ()) -> Verdict:
    """What the fetch in ``evidence`` means for the article whose newest stored
    version is ``stored``. ``start_urls`` are the source's list pages (a redirect to
    one of them is a takedown)."""
    status = evidence.status
    if status is None:
        return Verdict("failed", evidence.error or "no answer")
    if status == 304:
        return Verdict("not_modified", "304 Not Modified")
    if status in GONE_STATUSES:
        return Verdict("taken_down", f"HTTP {status}")
    if status >= 400:
        return Verdict("failed", f"HTTP {status}")
    moved = evidence.final_url and _without_query(evidence.final_url) != \
        _without_query(evidence.requested_url)
    if moved and is_front_or_channel(evidence.final_url, start_urls):
        return Verdict("taken_down", f"redirected to {evidence.final_url}")
    phrase = soft_404_phrase(evidence.headline)
    if phrase is None and evidence.article is None:
        phrase = soft_404_phrase(evidence.text_head)
    if phrase is not None:
        return Verdict("taken_down", f"soft 404: the page says {phrase!r}")
    if evidence.article is None:
        reason = evidence.not_article_reason or "no article found"
        return Verdict("taken_down", f"no longer an article ({reason})")
    diff = diff_versions(stored, evidence.article)
    if diff.unchanged:
        return Verdict("unchanged", snapshot=evidence.article)
    if diff.is_edit:
        return Verdict("edited", diff.summary(), diff, evidence.article)
    return Verdict("cosmetic", diff.summary(), diff, evidence.article)


# -- the schedule -------------------------------------------------------------------------


def first_step(first_seen: datetime, offsets: Sequence[timedelta], now: datetime
               ) -> int | None:
    """The first re-visit an article enrolled ``now`` owes: the latest offset already
    passed (due at once: an article matched an hour after it was first seen is looked
    at now), else the first one; None when even the last offset has passed (an old
    article found late is not watched)."""
    if first_seen + offsets[-1] < now:
        return None
    passed = [index for index, offset in enumerate(offsets) if first_seen + offset <= now]
    return passed[-1] if passed else 0


def next_step(first_seen: datetime, offsets: Sequence[timedelta], done: int,
              now: datetime) -> int | None:
    """After re-visit ``done``, the next one due in the future (offsets that passed
    while the job was not running are skipped: one look, not several at once), or
    None when the schedule is over."""
    upcoming = (index for index in range(done + 1, len(offsets))
                if first_seen + offsets[index] > now)
    return next(upcoming, None)


def due_at(first_seen: datetime, offsets: Sequence[timedelta], step: int | None
           ) -> datetime | None:
    return None if step is None else first_seen + offsets[step]


# -- for people ---

OUTCOME_ORDER = ("edited", "cosmetic", "taken_down", "unreachable", "failed", "restored",
                 "unchanged", "not_modified", "already")


def describe_outcome_counts(counts: Mapping[str, int]) -> str:
    """``2 edited, 1 taken_down, 4 unchanged`` (nothing: ``nothing due``)."""
    known = [name for name in OUTCOME_ORDER if counts.get(name)]
    rest = sorted(name for name in counts if name not in OUTCOME_ORDER and counts[name])
    return ", ".join(f"{counts[name]} {name}" for name in [*known, *rest]) or "nothing due"


def readable_diff(old: str, new: str, context: int = 1) -> list[str]:
    """A line diff of two bodies (one paragraph per line): ``- old`` / ``+ new``
    lines with a little context, for ``newsmon show``."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="",
                                      n=context))
    return [line for line in lines[2:] if not line.startswith("@@")] if lines else []


def age_phrase(delta: timedelta) -> str:
    """``3 h``, ``2 d``, ``45 min`` — how long after publication."""
    seconds = max(delta.total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def event_line(kind: str, changes: Sequence[Mapping[str, object]], evidence: str,
               published_at: datetime | None, first_seen: datetime, checked_at: datetime
               ) -> str:
    """One line for people: ``retitled: old → new; body edited (12% …)`` or ``taken
    down 3 h after publication (HTTP 404)``."""
    if kind == "taken_down":
        anchor, what = (published_at, "publication") if published_at else (first_seen,
                                                                           "first seen")
        return f"taken down {age_phrase(checked_at - anchor)} after {what} ({evidence})"
    edits = [FieldChange(str(c.get("field", "")), str(c.get("kind", "")), str(c.get("old", "")),
                         str(c.get("new", "")), float(str(c.get("share", 0.0))))
             for c in changes if c.get("kind") == "edited"]
    return "; ".join(describe_change(change) for change in edits) or "edited"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """An edit or takedown of a matched article, for a digest."""

    check_id: int
    article_id: int
    kind: str  # edited | taken_down
    checked_at: datetime
    title: str
    url: str
    site: str
    published_at: datetime | None
    first_seen: datetime
    evidence: str
    last_alive: datetime | None
    changes: list[dict[str, object]]
