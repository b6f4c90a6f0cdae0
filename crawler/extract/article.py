"""Bytes in, :class:`ExtractedArticle` out: the extraction pipeline in one place.

decode -> parse -> read metadata -> apply per-source noise/overrides -> clean ->
linearise -> headline -> body container -> metadata lines (bylines, dates) ->
fields. Pure: no network, database or clock (``fetched_at`` is passed in). A page it
cannot read (binary, empty, no text) gives ``is_article=False`` with a warning; a bug
the page trips in the extractor raises :class:`ExtractionFailed` instead, so the crawl
counts an error and fetches the page again rather than filing it as "not an article".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml.html import HtmlElement

from newsmon.config import ExtractOverrides
from newsmon.crawler.extract import dates
from newsmon.crawler.extract.blocks import Block, linearise
from newsmon.crawler.extract.body import (
    find_body,
    is_boilerplate,
    is_caption,
    is_deck,
    is_end_marker,
    looks_like_list,
)
from newsmon.crawler.extract.byline import (
    Byline,
    agency_in,
    bracketed_name_beside_date,
    bracketed_names,
    is_credit_line,
    is_dateline,
    is_outlet_name,
    is_person_name,
    names_line,
    opens_story,
    outlet_and_reporter,
    parse_byline,
    person_like_source,
    plausible_outlet,
    reporter_names,
    reporter_outlet,
    trailing_credit,
    unlabelled_source,
)
from newsmon.crawler.extract.decode import decode_html, looks_binary
from newsmon.crawler.extract.dom import (
    SelectorSyntaxError,
    clean_tree,
    parse_html,
    select,
    select_text,
)
from newsmon.crawler.extract.meta import PageMeta, read_meta
from newsmon.crawler.extract.rules import enabled
from newsmon.crawler.extract.script import detect_script
from newsmon.crawler.extract.title import (
    TitleChoice,
    choose_title,
    fallback_title,
    squash,
    strip_site_name,
)
from newsmon.sanitise import sanitise_article
from newsmon.values import ExtractedArticle

_DEFAULT_ZONE = "Asia/Shanghai"
_META_LINE_MAX = 150  # a byline/date line is short; longer blocks are prose
_NEAR_TITLE = 12  # blocks after the headline searched for the byline and time
_MIN_ARTICLE_CHARS = 60
_ANCHORED_SHARE = 0.35  # the text after the headline must hold this share of the best text
_MIN_UNTITLED_CHARS = 100  # without a confirmed headline, a snippet is not an article
_STRUCTURED_MIN = 120  # a declared articleBody shorter than this is a summary
_DOM_WEAK = 0.6  # the DOM body is weak when it holds less than this share of the declared one
_SEARCH_PAGE = re.compile(r"搜索结果|搜尋結果|search results", re.IGNORECASE)

_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished", "pubdate",
    "publishdate", "publish_date", "publish-date", "publishtime", "publish_time",
    "article.published", "og:published_time", "og:release_date", "dc.date.issued",
    "dc.date", "dcterms.created", "sailthru.date", "parsely-pub-date", "datecreated",
    "weibo:article:create_at", "article:pubdate", "createdate", "created", "date",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified",
                  "og:article:modified_time", "lastmod", "last-modified")
_SOURCE_META = ("source", "article:source", "og:article:source", "sourceorganization",
                "media", "contentsource", "article:publisher_name")
_SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "twitter:site")
_AUTHOR_META = ("author", "article:author", "og:article:author", "byl", "dc.creator",
                "sailthru.author", "parsely-author", "twitter:creator")
_TAG_META = ("news_keywords", "article:tag", "keywords", "og:article:tag")
_ORGANISATION = re.compile(r"(?:出版社|期刊|公司|集團|集团|中心|網絡|网络|新聞|新闻|[報报社網网台]|"
                           r"Publishers?|Press|News|Media|\.com)$", re.IGNORECASE)
# "(星島日報報道)" opening the first paragraph: the outlet, not article text.
_OUTLET_CREDIT = re.compile(r"^\s*[(（]\s*(?:來源|来源)?[:：]?\s*([^()（）\s]{2,12}?)"
                            r"(?:報道|報導|报道|訊|讯)\s*[)）]\s*")
_SENTENCE_END = re.compile(r"[。！？!?]")
_TIME_LABEL = re.compile(r"发布|發布|發佈|发表|發表|时间|時間|日期|更新|刊登|出版|posted|published",
                         re.IGNORECASE)


class ExtractionFailed(Exception):
    """The extractor broke on a page: a bug to fix, not a verdict on the page.

    The message is one line naming the exception; the caller adds the URL. A page that
    raises this is not "not an article": the crawl counts it as an error and retries it.
    """

    def __init__(self, message: str) -> None:  # one argument: it crosses process pools
        super().__init__(" ".join(message.split()))


def extract_article(raw: bytes, *, url: str, content_type: str | None = None,
                    fetched_at: datetime, timezone: str = _DEFAULT_ZONE,
                    overrides: ExtractOverrides | None = None,
                    date_hints: Mapping[str, str] | None = None) -> ExtractedArticle:
    """Extract headline, times, people, tags and body text from one fetched page.

    ``fetched_at`` anchors relative times ("3小时前"); ``timezone`` is the site's zone
    for times written without an offset; ``date_hints`` are dates the crawl saw
    outside the page (``feed`` pubDate, ``sitemap`` lastmod, ``http-last-modified``),
    the weakest publish-time evidence. Raises only :class:`ExtractionFailed`.

    Every string of the result has passed the one sanitiser and its field bound
    (:func:`newsmon.sanitise.sanitise_article`): this is where crawled text enters.
    """
    try:
        article = _Extraction(raw, url, content_type, fetched_at, timezone,
                              overrides or ExtractOverrides(), date_hints or {}).run()
    except Exception as exc:
        raise ExtractionFailed(f"extraction failed: {type(exc).__name__}: {exc}") from exc
    return sanitise_article(article)


@dataclass
class _Layout:
    """The page read as: lines around the headline, paragraphs, lines after them."""

    head: list[Block] = field(default_factory=list)
    paragraphs: list[Block] = field(default_factory=list)
    tail: list[Block] = field(default_factory=list)
    after: list[Block] = field(default_factory=list)  # past the end marker / the body node
    scanned: list[Block] = field(default_factory=list)  # body-node blocks before the end marker

    @property
    def meta_lines(self) -> list[Block]:
        return [*self.head, *self.tail, *self.after]


@dataclass
class _Fields:
    byline: Byline = field(default_factory=Byline)
    published: dates.DateEvidence | None = None
    updated: datetime | None = None


class _Extraction:
    """State of one extraction; each step a small method."""

    def __init__(self, raw: bytes, url: str, content_type: str | None, fetched_at: datetime,
                 timezone: str, overrides: ExtractOverrides,
                 date_hints: Mapping[str, str]) -> None:
        self.raw = raw
        self.url = url
        self.content_type = content_type
        self.fetched_at = fetched_at
        self.overrides = overrides
        self.date_hints = date_hints
        self.warnings: list[str] = []
        self.tz = self._zone(timezone)
        self._title_index: int | None = None
        self._title_text = ""
        self._brands: tuple[str, ...] = ()

    def _zone(self, name: str) -> tzinfo:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.warnings.append(f"unknown time zone {name!r}; using {_DEFAULT_ZONE}")
            return ZoneInfo(_DEFAULT_ZONE)

    def run(self) -> ExtractedArticle:
        decoded = decode_html(self.raw, self.content_type)
        self.warnings.extend(decoded.warnings)
        if looks_binary(self.raw):
            self.warnings.append(f"{self.url}: binary content, not an HTML page")
            return ExtractedArticle(url=self.url, canonical_url=self.url, title="", body="",
                                    encoding_declared=decoded.declared,
                                    encoding_used=decoded.used, is_article=False,
                                    warnings=tuple(self.warnings))
        root = parse_html(decoded.text)
        meta = read_meta(root, self.url)
        self.warnings.extend(clean_tree(root, self.overrides.noise))
        forced = self._override_values(root)
        clean_tree(root)
        blocks = linearise(root)
        title = self._title(blocks, meta, forced.get("title"))
        title, layout = self._body(root, blocks, title)
        self._title_index = title.block.index if title.block is not None else None
        self._title_text = title.text
        fields = self._fields(meta, layout, forced)
        body = "\n".join(b.text for b in layout.paragraphs)
        is_article = self._is_article(layout, title, blocks, meta.document_title)
        structured = self._structured_body(meta, body)
        if structured is not None and title.text \
                and not looks_like_list(layout.scanned, layout.paragraphs):
            body, is_article = structured, True
            self.warnings = [w for w in self.warnings if not w.startswith("no article body")]
            declared = meta.ld_headline or meta.first("og:title", "twitter:title")
            if not title.confirmed and declared:  # the DOM held a loading line, not the story
                title = TitleChoice(strip_site_name(declared, self._brands), None)
        if not is_article:
            body = ""
        return ExtractedArticle(
            url=self.url,
            canonical_url=meta.canonical or self.url,
            title=title.text,
            body=body,
            published_at=fields.published.when if fields.published else None,
            published_source=fields.published.source if fields.published else None,
            updated_at=fields.updated,
            source=fields.byline.source,
            author=fields.byline.author,
            editor=fields.byline.editor,
            tags=tuple(fields.byline.tags),
            script=detect_script(title.text + body if body else decoded.text),
            encoding_declared=decoded.declared,
            encoding_used=decoded.used,
            is_article=is_article,
            warnings=tuple(self.warnings),
        )

    # -- overrides ---------------------------------------------------------------------

    def _structured_body(self, meta: PageMeta, dom_body: str) -> str | None:
        """The article text the page declares as data, when the DOM holds much less of
        it (script-rendered pages, teaser-only markup); ``None`` keeps the DOM body."""
        for rule, text in (("ld_body", meta.ld_body), ("state_body", meta.state_body)):
            if not text or not enabled(rule, self.url):
                continue
            declared = len(squash(text))
            if declared >= _STRUCTURED_MIN and len(squash(dom_body)) < _DOM_WEAK * declared:
                return text
        return None

    def _override_values(self, root: HtmlElement) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in ("title", "published", "byline"):
            selector = getattr(self.overrides, name)
            if not selector:
                continue
            try:
                text = select_text(root, selector)
            except SelectorSyntaxError as exc:
                self.warnings.append(f"{name}: {exc}")
                continue
            if text:
                values[name] = text
            else:
                self.warnings.append(f"{name} selector {selector!r} matched nothing on {self.url}")
        return values

    def _override_body(self, root: HtmlElement) -> HtmlElement | None:
        if not self.overrides.body:
            return None
        try:
            found = select(root, self.overrides.body)
        except SelectorSyntaxError as exc:
            self.warnings.append(f"body: {exc}")
            return None
        if not found:
            self.warnings.append(
                f"body selector {self.overrides.body!r} matched nothing on {self.url}")
            return None
        return found[0]

    # -- headline and body -------------------------------------------------------------

    def _title(self, blocks: list[Block], meta: PageMeta, forced: str | None) -> TitleChoice:
        if forced:
            for block in blocks:
                if squash(block.text) == squash(forced):
                    return TitleChoice(block.text, block)
            return TitleChoice(forced, None)
        self._brands = self._site_brands(meta)
        headline = meta.ld_headline if enabled("ld_headline", self.url) else None
        meta_titles = [t for t in (meta.first("og:title", "twitter:title"), headline,
                                   meta.first("title", "headline")) if t]
        return choose_title(blocks, meta.document_title, meta_titles, self._brands)

    def _site_brands(self, meta: PageMeta) -> tuple[str, ...]:
        if not enabled("title_not_site_name", self.url):
            return ()
        return tuple(n for n in (meta.first(*_SITE_META), meta.ld_publisher) if n)

    def _body(self, root: HtmlElement, blocks: list[Block],
              title: TitleChoice) -> tuple[TitleChoice, _Layout]:
        """Body paragraphs, and the metadata lines met around and inside the body."""
        container = self._override_body(root)
        widen = enabled("body_widen", self.url)
        region = find_body(blocks, container, widen)
        if title.block is not None and container is None:
            # the body follows the headline; prose above it is another story's teaser
            anchored = find_body(blocks[max(0, title.block.index - 2):], widen=widen)
            if anchored.score >= _ANCHORED_SHARE * region.score:
                region = anchored
            else:  # the "headline" was the site name or a teaser far from the text
                title = TitleChoice(title.text, None)
        if not title.confirmed and region.blocks:
            title = fallback_title(blocks, region.blocks[0].index, title, self._brands)
        layout = _Layout(head=self._near_title(blocks, title, region.blocks))
        title_key = squash(title.text)
        start = 0
        if title.block is not None:
            for position, block in enumerate(region.blocks):
                if block is title.block:
                    start = position + 1
                    break
        chars = 0
        ended = False  # an end marker closed the text
        pending: list[Block] = []  # short lines after the last paragraph so far
        rest = region.blocks[start:]
        for position, block in enumerate(rest):
            layout.scanned.append(block)
            if squash(block.text) == title_key:
                continue
            if is_end_marker(block) and chars > 80:
                layout.tail.extend(pending)
                layout.tail.append(block)
                layout.after = [b for b in rest[position + 1:position + 8]
                                if b.chars < _META_LINE_MAX]
                pending = []
                ended = True
                break
            if is_boilerplate(block):
                if block.chars < _META_LINE_MAX:
                    pending.append(block)
                continue
            if self._is_meta_line(block, chars):
                if chars and _only_decks(layout.paragraphs) and _is_byline(block.text):
                    chars = _drop_decks(layout, pending)  # the story starts below its byline
                (pending if chars else layout.head).append(block)
                continue
            if is_caption(block, at_edge=chars == 0) or (chars == 0 and is_deck(block)):
                continue
            if chars and _only_decks(layout.paragraphs) and opens_story(block.text):
                chars = _drop_decks(layout, pending)  # the dateline opens the story
            layout.paragraphs.append(block)
            layout.tail.extend(pending)
            pending = []
            chars += block.chars
        layout.tail.extend(pending)
        _drop_repeats(layout.paragraphs)
        if region.blocks:
            last = region.blocks[-1].index
            if container is None and not ended and layout.paragraphs \
                    and enabled("body_announced_table", self.url):
                table = _announced_table(layout.paragraphs[-1], blocks[last + 1:])
                layout.paragraphs.extend(table)
                last = table[-1].index if table else last
            layout.after.extend(b for b in blocks[last + 1:last + 6] if b.chars < _META_LINE_MAX)
        _trim_head(layout)
        _trim_tail(layout)
        # the window around the headline overlaps the text; prose is not a byline
        prose = {id(b) for b in layout.paragraphs}
        layout.head = [b for b in layout.head if id(b) not in prose]
        if layout.paragraphs:
            # bylines also sit right above the text when the headline is far from it
            first = layout.paragraphs[0].index
            seen = {id(b) for b in layout.head}
            layout.head.extend(b for b in blocks[max(0, first - 4):first]
                               if b.chars < _META_LINE_MAX and id(b) not in seen
                               and b is not title.block)
        return title, layout

    def _near_title(self, blocks: list[Block], title: TitleChoice,
                    body: list[Block]) -> list[Block]:
        """Short blocks just after the headline (and one before): where bylines live."""
        if title.block is None:
            first = body[0].index if body else 0
            window = blocks[max(0, first - 6):first + 2]
        else:  # below the headline first: a date above it is more often a page date
            at = title.block.index
            window = blocks[at + 1:at + _NEAR_TITLE] + blocks[max(0, at - 3):at]
        return [b for b in window if b.chars < _META_LINE_MAX and b is not title.block]

    def _is_meta_line(self, block: Block, chars_so_far: int) -> bool:
        if block.chars >= 100 or _SENTENCE_END.search(block.text):
            return False
        parsed = parse_byline(block.text)
        has_field = bool(parsed.source or parsed.editor or parsed.tags or parsed.author)
        if parsed.labelled and has_field and (chars_so_far == 0 or block.chars < 60):
            return True
        if parsed.labelled and block.chars < 80 and dates.find_date(block.text, self.tz):
            return True  # "作者： 来源： 发布日期： 7/5/2005 9:23:57 PM", values lost
        if block.chars < 40 and (is_dateline(block.text) or is_credit_line(block.text)):
            return True
        if block.punct <= 3 and block.chars < 60:
            found = dates.find_date(block.text, self.tz)
            if found is not None and (chars_so_far == 0 or len(block.text) < 40):
                return True
        return block.chars < 80 and _is_stamp(block.text, self.tz)

    # -- fields ------------------------------------------------------------------------

    def _fields(self, meta: PageMeta, layout: _Layout, forced: dict[str, str]) -> _Fields:
        fields = _Fields()
        if "byline" in forced:
            fields.byline.merge(parse_byline(forced["byline"]))
            if not fields.byline.author and not fields.byline.labelled:
                fields.byline.author = forced["byline"].strip()
        author_line: int | None = None
        for block in layout.meta_lines:
            parsed = parse_byline(block.text)
            if parsed.author and fields.byline.author and author_line == block.index - 1:
                # a credit split over consecutive lines (实习生 … / 记者 …) names them all
                credited = f"{fields.byline.author} {parsed.author}".split()
                fields.byline.author = " ".join(dict.fromkeys(credited))
            if parsed.author:
                author_line = block.index
            fields.byline.merge(parsed)
            credit = _OUTLET_CREDIT.match(block.text)
            if credit and fields.byline.source is None:
                fields.byline.source = credit.group(1)
            if fields.byline.source is None:
                fields.byline.source = reporter_outlet(block.text)
        self._people_from_body(fields.byline, layout.paragraphs)
        if fields.byline.author is None and enabled("author_tail_bracket", self.url):
            # a one-line credit moved off the end of the text: "（袁源）"
            fields.byline.author = next(
                (names for b in layout.tail[:3] if (names := bracketed_names(b.text))), None)
        if fields.byline.author is None and enabled("author_near_title", self.url):
            fields.byline.author = self._author_near_title(layout)
        if fields.byline.source is None:
            fields.byline.source = _outlet_above_reporter(layout.head)
        if fields.byline.source is None:
            fields.byline.source = next(
                (outlet for b in layout.head if (outlet := unlabelled_source(b.text))), None)
        if fields.byline.source is None:
            pair = next((both for b in layout.head if (both := outlet_and_reporter(b.text))),
                        None)
            if pair is not None:
                fields.byline.source = pair[0]
                fields.byline.author = fields.byline.author or pair[1]
        self._people_from_meta(fields.byline, meta)
        if fields.byline.author is None and fields.byline.source \
                and person_like_source(fields.byline.source):
            fields.byline.author = fields.byline.source
        if fields.byline.source and enabled("source_reject_non_outlet", self.url) \
                and not plausible_outlet(fields.byline.source, self._title_text):
            fields.byline.source = None
        fields.published = self._published(meta, layout, forced.get("published"))
        modified = meta.ld_modified or meta.first(*_MODIFIED_META)
        if modified:
            found = dates.parse_iso(modified, self.tz)
            fields.updated = found.when if found else None
        return fields

    def _author_near_title(self, layout: _Layout) -> str | None:
        for block in layout.head:
            names = bracketed_name_beside_date(block.text)
            if names:
                return names
        if self._title_index is not None:
            for block in layout.head:
                if 0 < block.index - self._title_index <= 2:
                    names = names_line(block.text)
                    if names:
                        return names
        return None

    def _people_from_body(self, byline: Byline, body: list[Block]) -> None:
        if not body:
            return
        for block in body[:3]:
            head = block.text[:80]
            if byline.author is None and enabled("author_body_head", self.url):
                probe = parse_byline(head)
                byline.author = probe.author if probe.labelled else None
            if byline.source is None:
                byline.source = agency_in(head)
        if byline.author is None and enabled("author_body_end", self.url):
            for block in reversed(body[-3:]):
                if block.chars < 40:
                    probe = parse_byline(block.text)
                    if probe.author:
                        byline.author = probe.author
                        break
                names = bracketed_names(block.text) or trailing_credit(block.text)
                if names:
                    byline.author = names
                    break

    def _people_from_meta(self, byline: Byline, meta: PageMeta) -> None:
        site = meta.first(*_SITE_META) or meta.ld_publisher
        if byline.source is None and enabled("source_declared", self.url):
            declared = meta.first(*_SOURCE_META)
            if declared and site and len(site) > len(declared) and _abbreviates(declared, site):
                declared = site  # "ETtoday 新聞雲" is short for "ETtoday 東森新聞雲"
            byline.source = declared or site
        if byline.source is None and enabled("source_from_title", self.url):
            byline.source = _site_from_title(meta)
        if byline.author is None and enabled("author_meta", self.url):
            candidates = [*meta.ld_authors, meta.first(*_AUTHOR_META) or ""]
            site_names = [n for n in (site, byline.source, _site_from_title(meta),
                                      *(meta.first(k) for k in _SOURCE_META)) if n]
            for candidate in candidates:
                name = _plausible_author(candidate, site_names)
                if name:
                    byline.author = name
                    break
        if not byline.tags:
            keywords = meta.first(*_TAG_META)
            tags = meta.ld_keywords or (re.split(r"[,，、;；\s]+", keywords) if keywords else [])
            byline.tags = [t for t in tags if t][:10]

    def _published(self, meta: PageMeta, layout: _Layout,
                   forced: str | None) -> dates.DateEvidence | None:
        """The best-evidenced publish time not later than the fetch (see
        :meth:`_date_candidates` for the order)."""
        return dates.choose_published(self._date_candidates(meta, layout, forced),
                                      self.fetched_at)

    def _date_candidates(self, meta: PageMeta, layout: _Layout,
                         forced: str | None) -> list[dates.DateEvidence]:
        """Every publish-time candidate, strongest evidence first.

        A configured selector; the page's own structured data and meta tags (refined
        by a visible byline time of the same day); an absolute date in the byline
        block, the lines after the text or its first/last paragraphs; a publish time
        in an inline script; a relative byline time (今日 15:23, 3小时前: only the
        byline's, read against the fetch time, and below any absolute date because a
        cached page's 今日 is the day it was rendered); the URL; then what the crawl
        saw outside the page (feed pubDate, sitemap lastmod, HTTP Last-Modified).
        Sidebars, lists and related-story blocks are never read.
        """
        out: list[dates.DateEvidence] = []

        def add(found: dates.FoundDate | None, source: str) -> None:
            if found is not None:
                out.append(dates.DateEvidence(found.when, source))

        if forced:
            add(dates.parse_iso(forced, self.tz)
                or dates.find_date(forced, self.tz, self.fetched_at), "selector")
        machine, machine_source = self._machine_date(meta)
        visible, visible_source = self._absolute_visible_date(layout)
        if machine and machine.has_time:
            if visible and visible.has_time and visible.when.date() == machine.when.date():
                add(visible, visible_source)
            add(machine, machine_source)
        if visible and (machine is None or visible.when.date() == machine.when.date()
                        or visible.has_time):
            add(visible, visible_source)
        add(machine, machine_source)
        if meta.script_published:
            add(dates.parse_iso(meta.script_published, self.tz), "script")
        add(self._relative_byline_date(layout), "byline-relative")
        add(dates.date_from_url(self.url, self.tz), "url")
        for source in ("feed", "sitemap", "http-last-modified"):
            hint = self.date_hints.get(source)
            if hint:
                add(dates.parse_hint(hint, self.tz), source)
        return out

    def _machine_date(self, meta: PageMeta) -> tuple[dates.FoundDate | None, str]:
        for value, source in ((meta.ld_published, "json-ld"),
                              (meta.first(*_PUBLISHED_META), "meta"),
                              *((t, "time-element") for t in meta.time_elements)):
            if value:
                found = dates.parse_iso(value, self.tz)
                if found:
                    return found, source
        return None, ""

    def _absolute_visible_date(self, layout: _Layout) -> tuple[dates.FoundDate | None, str]:
        """An absolute date printed on the page: byline block, lines after the text,
        the text's first/last paragraphs, labelled lines below the body."""
        for found, source in ((self._visible_date(layout.head), "byline"),
                              (self._visible_date(layout.tail), "byline"),
                              (self._body_date(layout.paragraphs), "body"),
                              (self._visible_date(layout.after, labelled_only=True), "byline")):
            if found is not None:
                return found, source
        return None, ""

    def _relative_byline_date(self, layout: _Layout) -> dates.FoundDate | None:
        """今日 15:23 / 3小时前 in the byline block: the short lines above the text's
        first paragraph (the window after the headline also reaches sidebars below a
        short text, whose "今日 08:00" stamp other stories)."""
        start = layout.paragraphs[0].index if layout.paragraphs else None
        for block in layout.head:
            if start is not None and block.index > start:
                continue
            found = dates.relative_date(block.text, self.tz, self.fetched_at)
            if found is not None:
                return found
        return None

    def _visible_date(self, lines: list[Block],
                      labelled_only: bool = False) -> dates.FoundDate | None:
        """The labelled (发布时间…) date of these lines, else the first, with time if any."""
        labelled: dates.FoundDate | None = None
        plain: dates.FoundDate | None = None
        for block in [*lines, *_split_dates(lines)]:
            found = dates.find_date(block.text, self.tz, self.fetched_at, relative=False)
            if found is None:
                continue
            before = block.text[:found.start].rstrip()
            if labelled is None and (_TIME_LABEL.search(before) or before.endswith(("于", "於"))):
                labelled = found
            if plain is None or (found.has_time and not plain.has_time
                                 and found.when.date() == plain.when.date()):
                plain = found
        return labelled if labelled_only else labelled or plain

    def _body_date(self, body: list[Block]) -> dates.FoundDate | None:
        for block in body[:2] + body[-2:]:
            found = dates.find_date(block.text[:120], self.tz)
            if found is not None and found.has_time:
                return found
        return None

    # -- classification ----------------------------------------------------------------

    def _is_article(self, layout: _Layout, title: TitleChoice, blocks: list[Block],
                    document_title: str) -> bool:
        body = layout.paragraphs
        chars = sum(b.chars for b in body)
        punct = sum(b.punct for b in body)
        if chars < _MIN_ARTICLE_CHARS or punct < 2:
            self.warnings.append(f"no article body found on {self.url}")
            return False
        if looks_like_list(layout.scanned, body):
            self.warnings.append(f"list page (repeated headline + teaser items) at {self.url}")
            return False
        if not title.confirmed and (chars < _MIN_UNTITLED_CHARS or (
                len(body) == 1 and chars < 300 and _headline_links(blocks) >= 40)):
            # a lone teaser among many headline links: an index page's preview
            self.warnings.append(f"no headline and only a snippet of text on {self.url}")
            return False
        if _SEARCH_PAGE.search(document_title):
            self.warnings.append(f"search results page at {self.url}")
            return False
        return True


_DATE_PIECE = re.compile(r"^[\d/:：.\-年月日号號时時分\s]{2,12}$")


def _split_dates(lines: list[Block]) -> list[Block]:
    """A date printed in pieces, one element each (``2019`` ``09/07`` ``19:02``), joined."""
    pieces = {b.index: b for b in lines if _DATE_PIECE.match(b.text)}
    ordered = [pieces[i] for i in sorted(pieces)]
    runs: list[list[Block]] = []
    for block in ordered:
        if runs and block.index == runs[-1][-1].index + 1:
            runs[-1].append(block)
        else:
            runs.append([block])
    joined = []
    for run in runs:
        if len(run) > 1:
            text = " ".join(b.text for b in run)
            text = re.sub(r"^((?:19|20)\d{2})\s+(?=\d{1,2}[-/.]\d{1,2})", r"\1/", text)
            joined.append(replace(run[0], text=text))
    return joined


# The text's last line announces what follows: "附：招生专业及考试科目", "名单如下：".
_ANNOUNCES = re.compile(r"^附\s*(?:表|件|录|錄)?\s*\d*\s*[:：]|"
                        r"(?:如下|下表|下列)\s*[:：]?\s*$|[:：]\s*$")
_TABLE_MIN = 3  # cells: one line after an announcement is not a table


def _announced_table(announcing: Block, following: list[Block]) -> list[Block]:
    """The link-free table cells right after a text whose last line announces them.

    Layout-table pages put a notice's appended table (a schedule, a list of majors)
    outside the cell that holds its prose; the scoring sees short cells and leaves it
    out although the text ends by pointing at it."""
    if announcing.chars > _META_LINE_MAX or not _ANNOUNCES.search(announcing.text):
        return []
    cells: list[Block] = []
    for block in following:
        if block.link_chars or is_end_marker(block) or is_boilerplate(block) \
                or block.chars >= _META_LINE_MAX \
                or not any(a.tag == "table" for a in block.owner.iterancestors()):
            break
        cells.append(block)
    return cells if len(cells) >= _TABLE_MIN else []


_DECK_CHARS = 80  # a deck or caption above the byline is one short line...
_DECKS_MAX = 3  # ...or a few


def _only_decks(paragraphs: list[Block]) -> bool:
    """What came before the byline / dateline is a few short lines (a deck, captions)."""
    return 0 < len(paragraphs) <= _DECKS_MAX and all(b.chars < _DECK_CHARS for b in paragraphs)


def _drop_decks(layout: _Layout, pending: list[Block]) -> int:
    """Forget the lines above the story's start; returns the body size so far (0)."""
    layout.paragraphs.clear()
    layout.head.extend(pending)
    pending.clear()
    return 0


def _is_byline(line: str) -> bool:
    return bool(parse_byline(line).author) or is_dateline(line)


_DATE_PARTS = re.compile(r"[\d\W_年月日号號时時分秒点點]|星期.|週.|上午|下午|晚上|凌晨")
_STAMP_WORDS_MAX = 16  # words beside the date in a post stamp: labels, counters, a name


def _is_stamp(text: str, tz: tzinfo) -> bool:
    """A dated stamp such as ``发表于 2004年12月27日 12:40 - (阅读:3727;评论:63)``.

    Once the date, digits and punctuation are gone, only a few words are left
    (labels, counters, a name): a metadata line, however much punctuation it has.
    """
    found = dates.find_date(text, tz)
    if found is None or not found.has_time:
        return False
    return len(_DATE_PARTS.sub("", text)) <= _STAMP_WORDS_MAX


def _outlet_above_reporter(lines: list[Block]) -> str | None:
    """``中國時報`` on the line right above ``劉屏／華盛頓4日電``."""
    ordered = sorted(lines, key=lambda b: b.index)
    for upper, lower in itertools.pairwise(ordered):
        if lower.index == upper.index + 1 and is_outlet_name(upper.text) \
                and reporter_names(lower.text):
            return upper.text.strip()
    return None


def _abbreviates(short: str, full: str) -> bool:
    """Every character of ``short`` appears in ``full``, in order."""
    rest = iter(full)
    return all(ch in rest for ch in short)


def _headline_links(blocks: list[Block]) -> int:
    return sum(1 for b in blocks if b.link_density > 0.8 and 8 <= b.chars <= 40)


def _trim_head(layout: _Layout) -> None:
    """Move leading kicker lines (``【板前糾紛】``) and outlet credits to the metadata."""
    paragraphs = layout.paragraphs
    while len(paragraphs) > 1 and paragraphs[0].chars <= 20 \
            and not _SENTENCE_END.search(paragraphs[0].text) and paragraphs[0].punct <= 2:
        layout.head.append(paragraphs.pop(0))
    if paragraphs:
        first = paragraphs[0]
        match = _OUTLET_CREDIT.match(first.text)
        if match and len(first.text) > match.end():
            layout.head.append(replace(first, text=match.group(0)))
            paragraphs[0] = replace(first, text=first.text[match.end():].lstrip())


_REPEAT_MIN = 20  # a paragraph this long printed twice is a summary box or a template echo


def _drop_repeats(paragraphs: list[Block]) -> None:
    """Keep the first of identical long paragraphs (a summary box repeating the lead)."""
    seen: set[str] = set()
    kept = []
    for block in paragraphs:
        key = squash(block.text)
        if len(re.sub(r"[\W_]", "", key)) >= _REPEAT_MIN and key in seen:  # not "____。"
            continue
        seen.add(key)
        kept.append(block)
    paragraphs[:] = kept


def _trim_tail(layout: _Layout) -> None:
    """Move trailing one-line credits such as ``（袁源）`` to the metadata lines."""
    paragraphs = layout.paragraphs
    while paragraphs and paragraphs[-1].chars <= 20 and bracketed_names(paragraphs[-1].text):
        layout.tail.insert(0, paragraphs.pop())
    # a photo caption left below the last paragraph ("…呼聲高。資料照片")
    while len(paragraphs) > 1 and paragraphs[-1].chars < _DECK_CHARS \
            and is_caption(paragraphs[-1], at_edge=True):
        paragraphs.pop()


# Channel words in a document title ("北医新闻网_(新闻)"): a section, not the site.
_CHANNEL_WORD = re.compile(r"新闻|新聞|资讯|資訊|首页|首頁|正文|频道|頻道|栏目|欄目|专题|專題|博客|"
                           r"论坛|論壇|新闻中心|新聞中心|国内|國內|国际|國際|社会|社會|财经|財經|"
                           r"体育|體育|娱乐|娛樂|科技|评论|評論|图片|圖片|视频|視頻")


def _site_from_title(meta: PageMeta) -> str | None:
    title = meta.document_title
    headline = strip_site_name(title)
    rest = title.replace(headline, " ")
    parts = [p.strip(" -_|｜—()（）[]【】") for p in re.split(r"[-_|｜—]+", rest)]
    parts = [p for p in parts if 1 < len(p) <= 20 and not _CHANNEL_WORD.fullmatch(p)]
    return parts[-1] if parts else None


def _plausible_author(value: str, site_names: list[str]) -> str | None:
    """A meta/JSON-LD author that names people, not the site itself."""
    value = " ".join(value.split())
    if not value or len(value) > 30 or value.startswith(("http", "@", "www")):
        return None
    if not re.search(r"[^\W\d_]", value):
        return None
    names = [n for n in re.split(r"\s*[,，、;；]\s*", value) if n]
    kept = [n for n in names if is_person_name(n) and not _ORGANISATION.search(n)
            and not any(n == s or _abbreviates(n, s) or _abbreviates(s, n) for s in site_names)]
    return " ".join(kept) if kept else None
