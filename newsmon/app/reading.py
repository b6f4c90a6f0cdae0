"""Reading the archive: search, one article, stories, sources' health, runs, new matches.

The use-cases every reader-facing shell shares — ``newsmon search``/``show``/``status``,
the web pages, the HTTP API and the MCP server — written once. Each takes a
:class:`~newsmon.storage.engine.Database` and plain values and returns plain values;
a shell parses its input into them and presents what comes back.

Listings page by key, never by OFFSET: a search's cursor is the last result's place in
the "newest first" order (publish time, id), so page 500 costs what page 1 does.
Relevance ranks every match whatever the page, so its cursor carries the rank reached.
Cursors are opaque strings to callers (URL-safe base64 of a small JSON object).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, Literal, Protocol, TypeVar

from newsmon.config import parse_duration
from newsmon.digest import highlight_segments
from newsmon.matching import ArticleText, Matcher, TopicSpec
from newsmon.query import Plan, QuerySyntaxError, parse_query
from newsmon.status import RunRecord, SourceStatus, source_status, status_record
from newsmon.storage import browse
from newsmon.storage.archive import ArticleDetails, article_details
from newsmon.storage.digests import DigestRunRecord
from newsmon.storage.engine import Database, Session
from newsmon.storage.jobruns import JobRunRecord
from newsmon.storage.runs import run_history
from newsmon.storage.search import (
    FoundArticle,
    SearchFilters,
    SearchPosition,
    iter_search,
    search_articles,
)
from newsmon.storage.search import source_names as stored_source_names
from newsmon.storage.topics import list_topics
from newsmon.storage.watch import (
    CheckRecord,
    VersionRecord,
    WatchState,
    article_checks,
    article_versions,
    watch_state,
)

Sort = Literal["newest", "relevance"]
Script = Literal["simplified", "traditional"]
SCRIPTS: tuple[str, ...] = ("simplified", "traditional")
MAX_PAGE = 200  # results per page a shell may ask for
SNIPPET_FALLBACK = 120  # characters of the body shown when the query has no positive term


# --------------------------------------------------------------------------------------
# Errors a shell shows to the user (one line each)


class ReadingError(ValueError):
    """Input a use-case cannot work with; the message names what and where."""


class QueryError(ReadingError):
    """A malformed query: ``position`` is the character offset where it went wrong."""

    def __init__(self, error: QuerySyntaxError) -> None:
        super().__init__(str(error))
        self.query = error.query
        self.position = error.position
        self.expected = error.expected
        self.caret = error.caret_lines()


class UnknownName(ReadingError):
    """A source or topic name that is not stored; the message lists known ones."""

    def __init__(self, kind: str, name: str, known: Sequence[str]) -> None:
        shown = ", ".join(sorted(known)[:20]) or "none stored"
        super().__init__(f"no {kind} named {name!r} (known: {shown})")
        self.kind = kind
        self.name = name


class BadCursor(ReadingError):
    """A cursor this version did not hand out (or one for another kind of listing)."""


class BadValue(ReadingError):
    """A filter value that cannot be read (a date, a script …)."""


# --------------------------------------------------------------------------------------
# Small parsers shared by the shells


def parse_when(value: str | None, now: datetime | None = None) -> datetime | None:
    """``7d`` (a duration back from now) or an ISO date/time (UTC unless zoned)."""
    if value is None or value == "":
        return None
    try:
        duration = parse_duration(value)
        return None if duration is None else (now or datetime.now(UTC)) - duration
    except OverflowError:
        raise BadValue(f"{value[:40]!r} reaches back before the year 1") from None
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{value!r} is neither a duration (7d, 12h) nor an ISO date "
                       "(2024-05-01)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def topic_aliases(session: Session, excluding: str | None = None) -> dict[str, str]:
    """Topic name -> query, for ``topic:NAME`` inside queries."""
    return {t.name: t.query for t in list_topics(session) if t.name != excluding}


def parse_search_query(session: Session, query: str, *, excluding: str | None = None,
                       name: str | None = None, aliases: dict[str, str] | None = None
                       ) -> Plan:
    """The query's tree, topic names usable as aliases; :class:`QueryError` if malformed."""
    if aliases is None:
        aliases = topic_aliases(session, excluding)
    try:
        return parse_query(query, aliases=aliases, name=name)
    except QuerySyntaxError as exc:
        raise QueryError(exc) from None


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, kind: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadCursor(f"cursor {cursor[:40]!r} is not one newsmon handed out") from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise BadCursor(f"cursor {cursor[:40]!r} does not belong to this listing")
    return payload


def _int_field(payload: dict[str, Any], key: str, cursor: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise BadCursor(f"cursor {cursor[:40]!r} is damaged")
    return value


def id_cursor(kind: str, last_id: int) -> str:
    return _encode({"k": kind, "i": last_id})


def read_id_cursor(kind: str, cursor: str | None) -> int | None:
    """The id a listing's cursor stopped at (None: start at the beginning)."""
    if not cursor:
        return None
    return _int_field(_decode(cursor, kind), "i", cursor)


# --------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A search as a reader asks for it; strings as typed (a shell passes them on)."""

    query: str = ""  # empty: every article
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    since: str | None = None  # a duration back (7d) or an ISO date
    until: str | None = None
    script: str | None = None  # simplified | traditional
    new_only: bool = False
    sort: Sort = "newest"
    limit: int = 20
    cursor: str | None = None
    offset: int | None = None  # the CLI's --page/--offset; shells with a cursor leave it
    snippets: bool = True  # a table that shows no excerpt need not pay for one
    watch: tuple[str, ...] = ()  # "changed" and/or "taken_down" (re-visits, issue 18)


@dataclass(frozen=True, slots=True)
class Snippet:
    """An excerpt, split into runs; ``hit`` runs are the matched words."""

    text: str
    segments: tuple[tuple[str, bool], ...]

    @property
    def marked(self) -> str:
        return "".join(f"[{text}]" if hit else text for text, hit in self.segments)


NO_SNIPPET = Snippet("", ())


@dataclass(frozen=True, slots=True)
class SearchHit:
    article: FoundArticle
    snippet: Snippet


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: str | None  # None: this was the last page
    more: bool


def search_filters(session: Session, request: SearchRequest,
                   topic_names: Sequence[str] | None = None) -> SearchFilters:
    """Filters from a request; an unknown source or topic name is an :class:`UnknownName`."""
    if request.sources:
        _check_names("source", request.sources, stored_source_names(session))
    if request.topics:
        if topic_names is None:
            topic_names = [topic.name for topic in list_topics(session)]
        _check_names("topic", request.topics, list(topic_names))
    if request.script is not None and request.script not in SCRIPTS:
        raise BadValue(f"script {request.script!r} is not one of {', '.join(SCRIPTS)}")
    return SearchFilters(since=parse_when(request.since), until=parse_when(request.until),
                         sources=request.sources, topics=request.topics,
                         new_only=request.new_only, watch=request.watch)


def _check_names(kind: str, given: Iterable[str], known: list[str]) -> None:
    for name in given:
        if name not in known:
            raise UnknownName(kind, name, known)


def search(database: Database, request: SearchRequest) -> SearchPage:
    """One page of results with highlighted snippets, and the cursor of the next."""
    if not 1 <= request.limit <= 100_000:
        raise BadValue(f"limit {request.limit} is outside 1..100000")
    with database.session() as session:
        aliases = topic_aliases(session)  # read once: parsing, the filters, the snippets
        node = (parse_search_query(session, request.query, aliases=aliases)
                if request.query.strip() else None)
        filters = search_filters(session, request, list(aliases))
        if request.sort == "relevance" and node is not None:
            found, next_cursor = _relevance_page(session, node, filters, request)
        else:
            found, next_cursor = _newest_page(session, node, filters, request)
    matcher = _snippet_matcher(request.query, aliases) if node is not None else None
    hits = [SearchHit(article, _snippet(matcher, article) if request.snippets else NO_SNIPPET)
            for article in found]
    return SearchPage(hits, next_cursor, next_cursor is not None)


def count(database: Database, request: SearchRequest) -> int:
    """How many articles match (reads every match: cost grows with the count)."""
    with database.session() as session:
        return sum(1 for _ in iter_search_results(session, request))


def iter_search_results(session: Session, request: SearchRequest) -> Iterable[FoundArticle]:
    """Every result of a request, newest first, streamed (export)."""
    node = parse_search_query(session, request.query) if request.query.strip() else None
    return _with_script(iter_search(session, node, search_filters(session, request), 1000),
                        request.script)


def _with_script(found: Iterable[FoundArticle], script: str | None) -> Iterable[FoundArticle]:
    # The script is no search filter in SQL (few sources mix scripts), so it is applied
    # to the stream of matches.
    if script is None:
        return found
    return (article for article in found if article.script == script)


def _newest_page(session: Session, node: Plan | None, filters: SearchFilters,
                 request: SearchRequest) -> tuple[list[FoundArticle], str | None]:
    after = _read_search_cursor(request.cursor)
    skip = request.offset or 0
    wanted = skip + request.limit + 1
    page: list[FoundArticle] = []
    results = _with_script(iter_search(session, node, filters, wanted, after), request.script)
    for index, article in enumerate(results):
        if index >= skip:
            page.append(article)
        if len(page) == request.limit + 1:
            break
    shown = page[:request.limit]
    if len(page) <= request.limit:
        return shown, None
    last = shown[-1]
    return shown, _encode({"k": "search", "p": last.published_at.isoformat()
                           if last.published_at else None, "i": last.id})


def _read_search_cursor(cursor: str | None) -> SearchPosition | None:
    if not cursor:
        return None
    payload = _decode(cursor, "search")
    article_id = _int_field(payload, "i", cursor)
    published = payload.get("p")
    if published is None:
        return SearchPosition(None, article_id)
    try:
        moment = datetime.fromisoformat(str(published))
    except ValueError:
        raise BadCursor(f"cursor {cursor[:40]!r} is damaged") from None
    return SearchPosition(moment, article_id)


def _relevance_page(session: Session, node: Plan, filters: SearchFilters,
                    request: SearchRequest) -> tuple[list[FoundArticle], str | None]:
    # Ranking reads every match whatever the page, so the cursor is the rank reached.
    start = (_int_field(_decode(request.cursor, "rank"), "o", request.cursor)
             if request.cursor else request.offset or 0)
    if request.script is None:
        found = search_articles(session, node, filters, limit=request.limit + 1,
                                offset=start, sort="relevance")
    else:  # rank, then drop other scripts: fetch enough ranks to fill the page
        ranked = search_articles(session, node, filters, limit=100_000, offset=0,
                                 sort="relevance")
        found = [a for a in ranked if a.script == request.script][start:
                                                                    start + request.limit + 1]
    shown = found[:request.limit]
    more = len(found) > request.limit
    return shown, _encode({"k": "rank", "o": start + request.limit}) if more else None


def _snippet_matcher(query: str, aliases: dict[str, str]) -> Matcher:
    return Matcher([TopicSpec(0, "(search)", query)], aliases=aliases)


def _snippet(matcher: Matcher | None, article: FoundArticle) -> Snippet:
    """The excerpt the topic matcher picks (the same one a digest shows), or the start
    of the body when the query names nothing to show (only exclusions, no query)."""
    if matcher is not None:
        matched = matcher.match(ArticleText(article.id, article.title, article.body,
                                            article.source or ""))
        if matched and matched[0].hits:
            variants = tuple(dict.fromkeys(hit.variant for hit in matched[0].hits))
            text = matched[0].snippet.text
            return Snippet(text, tuple(highlight_segments(text, variants)))
    text = " ".join(article.body.split())[:SNIPPET_FALLBACK]
    return Snippet(text, ((text, False),) if text else ())


def article_record(article: FoundArticle, zone_time: str | None = None) -> dict[str, object]:
    """The JSON/CSV shape of a found article (``newsmon search --json``, the API);
    ``zone_time`` adds the local ``published`` column a table shows."""
    record: dict[str, object] = {
        "id": article.id,
        "url": article.canonical_url,
        "title": article.title,
        "source": article.source,
        "site": article.site,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "author": article.author,
        "editor": article.editor,
        "tags": article.tags,
        "first_seen": article.first_seen.isoformat(),
        "story_id": article.story_id,
    }
    if zone_time is not None:
        record["published"] = zone_time
    return record


EXPORT_COLUMNS = ["id", "url", "fetched_url", "title", "source", "site", "author", "editor",
                  "tags", "published_at", "first_seen", "story_id", "script", "body"]


def export_record(article: FoundArticle) -> dict[str, object]:
    """One exported article (``newsmon export``, the search page's download): every
    stored field of the original text, times in UTC, in :data:`EXPORT_COLUMNS` order."""
    record = article_record(article)
    record.update(fetched_url=article.url, script=article.script, body=article.body)
    return {column: record[column] for column in EXPORT_COLUMNS}


# --------------------------------------------------------------------------------------
# One article


def article(database: Database, article_id: int) -> ArticleDetails | None:
    """Everything stored about one article: fields, topic matches, the story's other
    outlets; None when there is no such id."""
    if not 0 < article_id < 2**63:
        return None
    with database.session() as session:
        return article_details(session, article_id)


@dataclass(frozen=True, slots=True)
class History:
    """What the re-visits of one article found: its watch, versions and checks."""

    watch: WatchState | None
    versions: list[VersionRecord]
    checks: list[CheckRecord]


def article_history(database: Database, article_id: int) -> History:
    """A watched article's re-visits and versions (issue 18); ``watch`` None: not watched."""
    with database.session() as session:
        return History(watch_state(session, article_id),
                       article_versions(session, article_id),
                       article_checks(session, article_id))


def history_json(history: History) -> dict[str, Any]:
    watch = history.watch
    return {
        "watch": None if watch is None else {
            "state": watch.state, "due_at": watch.due_at, "last_checked": watch.last_checked,
            "last_alive": watch.last_alive, "taken_down_at": watch.taken_down_at,
            "evidence": watch.evidence},
        "versions": [{"seq": v.seq, "seen_at": v.seen_at, "kind": v.kind,
                      "content_hash": v.content_hash, "title": v.snapshot.title,
                      "body": v.snapshot.body, "source": v.snapshot.source,
                      "author": v.snapshot.author, "editor": v.snapshot.editor,
                      "published_at": v.snapshot.published_at, "changes": v.changes}
                     for v in history.versions],
        "checks": [{"checked_at": c.checked_at, "outcome": c.outcome, "status": c.status,
                    "evidence": c.evidence, "version": c.version_seq}
                   for c in history.checks],
    }


def article_json(details: ArticleDetails) -> dict[str, Any]:
    """The shape ``newsmon show --json`` prints and the API returns."""
    found = details.article
    return {
        "id": found.id,
        "url": found.canonical_url,
        "fetched_url": found.url,
        "title": found.title,
        "body": found.body,
        "source": found.source,
        "site": found.site,
        "author": found.author,
        "editor": found.editor,
        "tags": found.tags,
        "published_at": found.published_at,
        "published_source": details.published_source,
        "updated_at": details.updated_at,
        "first_seen": found.first_seen,
        "last_seen": details.last_seen,
        "changed_at": details.changed_at,
        "script": found.script,
        "encoding_declared": details.encoding_declared,
        "encoding_used": details.encoding_used,
        "matches": [{"topic": m.topic, "is_new": m.is_new, "matched_at": m.matched_at,
                     "snippet": m.snippet, "hits": m.hits} for m in details.matches],
        "story": None if found.story_id is None else {
            "id": found.story_id,
            "origin": details.story_origin,
            "other_articles": [{"id": o.id, "site": o.site, "source": o.source,
                                "title": o.title, "url": o.url,
                                "published_at": o.published_at}
                               for o in details.story_articles],
        },
    }


# --------------------------------------------------------------------------------------
# Stories, runs, matches


T = TypeVar("T")


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=_Identified)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise BadValue(f"limit {limit} is outside 1..{MAX_PAGE}")


def stories(database: Database, cursor: str | None = None, limit: int = 20,
            min_outlets: int = 1) -> Page[browse.StorySummary]:
    """Stories newest first; ``min_outlets`` 2 keeps those several outlets carried."""
    if not 1 <= min_outlets <= 1000:
        raise BadValue(f"min_outlets {min_outlets} is outside 1..1000")
    return _id_page(database, "stories", cursor, limit,
                    lambda session, before, n: browse.stories_before(session, before, n,
                                                                     min_outlets))


RunKind = Literal["crawl", "job", "digest"]


def crawl_runs(database: Database, cursor: str | None = None, limit: int = 50,
               source: str | None = None) -> Page[browse.CrawlRunRow]:
    return _id_page(database, "crawl-runs", cursor, limit,
                      lambda session, before, n: browse.crawl_runs(session, before, n, source))


def job_runs(database: Database, cursor: str | None = None, limit: int = 50
             ) -> Page[JobRunRecord]:
    return _id_page(database, "job-runs", cursor, limit, browse.job_runs_before)


def digest_runs(database: Database, cursor: str | None = None, limit: int = 50
                ) -> Page[DigestRunRecord]:
    return _id_page(database, "digest-runs", cursor, limit, browse.digest_runs)


def _id_page(database: Database, kind: str, cursor: str | None, limit: int,
             fetch: Callable[[Session, int | None, int], list[RowT]]) -> Page[RowT]:
    """One page of stories or a run ledger, newest first, continued by an id cursor of
    ``kind``; ``fetch`` reads up to n rows before an id (from the newest when None)."""
    _check_limit(limit)
    before = read_id_cursor(kind, cursor)
    with database.session() as session:
        found = fetch(session, before, limit + 1)
    shown = found[:limit]
    more = len(found) > limit
    return Page(shown, id_cursor(kind, shown[-1].id) if more and shown else None)


@dataclass(frozen=True, slots=True)
class MatchesPage:
    matches: list[browse.MatchRow]
    cursor: str  # pass it back to get what was recorded after these
    more: bool


def new_matches(database: Database, cursor: str | None = None, limit: int = 100,
                topics: Sequence[str] = (), new_only: bool = True) -> MatchesPage:
    """Matches recorded since ``cursor`` (from the first one when None), oldest first.

    The returned cursor is always usable: poll with it to get only what is newer."""
    _check_limit(limit)
    after = read_id_cursor("matches", cursor) or 0
    with database.session() as session:
        _check_names("topic", topics, [topic.name for topic in list_topics(session)])
        found = browse.matches_after(session, after, limit + 1, topics, new_only)
    shown = found[:limit]
    last = shown[-1].id if shown else after
    return MatchesPage(shown, id_cursor("matches", last), len(found) > limit)


# --------------------------------------------------------------------------------------
# Sources and their health

HEALTH_DAYS = 30
COVERAGE_RUNS = 10  # the runs whose new articles' fields are counted


@dataclass(frozen=True, slots=True)
class RunCoverage:
    """One run and the share of its new articles that had a date, a 来源, a body."""

    started_at: datetime
    status: str
    articles: int
    date_share: float | None  # None: the run stored no new article
    source_share: float | None
    body_share: float | None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    status: SourceStatus
    articles_per_day: list[tuple[date, int]]  # oldest first, every day of the window
    error_kinds: dict[str, int]  # over the runs read, by kind
    coverage: list[RunCoverage]  # newest run first

    @property
    def name(self) -> str:
        return self.status.source

    @property
    def silent(self) -> bool:
        """Flagged quiet (nothing new for longer than usual) or never run."""
        return any(flag in ("quiet", "never run") for flag in self.status.flags)


def source_statuses(database: Database, configured: Sequence[str], now: datetime
                    ) -> list[SourceStatus]:
    """Every configured source, and every source with runs, with its status (the crawl
    section of ``newsmon status``)."""
    with database.session() as session:
        history = run_history(session)
    names = list(configured) + sorted(set(history) - set(configured))
    return [source_status(name, history.get(name, []), now) for name in names]


def sources_health(database: Database, configured: Sequence[str], now: datetime,
                   only: str | None = None) -> list[SourceHealth]:
    """Each source's health: last crawl, new articles per day over :data:`HEALTH_DAYS`
    days, error kinds, silent flags, and field coverage over the last runs — a site
    that changed its template shows as a drop in the shares."""
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=HEALTH_DAYS - 1)
    with database.session() as session:
        history = run_history(session, per_source=COVERAGE_RUNS)
        names = list(configured) + sorted(set(history) - set(configured))
        if only is not None:
            if only not in names:
                raise UnknownName("source", only, names)
            names = [only]
        daily = browse.daily_new_articles(
            session, datetime.combine(first_day, datetime.min.time(), UTC))
        found = []
        for name in names:
            runs = history.get(name, [])
            per_day = daily.get(name, {})
            days = [(first_day + timedelta(days=n), per_day.get(first_day + timedelta(days=n), 0))
                    for n in range(HEALTH_DAYS)]
            found.append(SourceHealth(source_status(name, runs, now), days,
                                      _error_kinds(runs), _coverage(session, name, runs)))
    return found


def _error_kinds(runs: Sequence[RunRecord]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for run in runs:
        kinds.update(run.errors)
    return dict(sorted(kinds.items(), key=lambda item: (-item[1], item[0])))


def _coverage(session: Session, name: str, runs: Sequence[RunRecord]) -> list[RunCoverage]:
    shares = []
    for run in runs:
        counted = browse.field_coverage(session, name, run.started_at, run.finished_at)
        total = counted.articles

        def share(part: int, total: int = total) -> float | None:
            return None if total == 0 else round(part / total, 3)

        shares.append(RunCoverage(run.started_at, run.status, total, share(counted.with_date),
                                  share(counted.with_source), share(counted.with_body)))
    return shares


def health_record(health: SourceHealth) -> dict[str, Any]:
    """The JSON shape of one source's health (``status_record`` plus the history)."""
    record = status_record(health.status)
    record["silent"] = health.silent
    record["articles_per_day"] = [{"day": day.isoformat(), "new": count}
                                  for day, count in health.articles_per_day]
    record["error_kinds"] = health.error_kinds
    record["coverage"] = [
        {"started_at": c.started_at.isoformat(), "status": c.status, "articles": c.articles,
         "date": c.date_share, "source": c.source_share, "body": c.body_share}
        for c in health.coverage]
    return record

