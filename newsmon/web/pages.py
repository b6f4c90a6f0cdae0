"""The HTML pages: New, Search, Article, Topics, Sources, Runs, Feeds, and login.

Each handler reads its input from the URL or the form, calls the shared use-cases of
:mod:`newsmon.app` (the same ones the CLI and the API call) and fills a template. No
page needs JavaScript. Writes (topics) go through :mod:`newsmon.web.access`: CSRF
field first, then the token (or the login cookie it set), and never in read-only mode.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, HTTPException, Query
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from newsmon.app import reading
from newsmon.digest import Digest, build_digest, highlight_segments
from newsmon.digest.render.atom import render_atom
from newsmon.digest.render.common import digest_headline, story_summary, topic_summary
from newsmon.values import PendingMatch
from newsmon.versions import diff_versions, readable_diff
from newsmon.web import topicforms
from newsmon.web.access import AUTH_COOKIE, AccessError
from newsmon.web.app import WebSettings, settings_of
from newsmon.web.chart import daily_bars
from newsmon.web.render import environment

router = APIRouter(include_in_schema=False)

NAV = [("new", "/", "New"), ("search", "/search", "Search"), ("topics", "/topics", "Topics"),
       ("sources", "/sources", "Sources"), ("runs", "/runs", "Runs"), ("feeds", "/feeds", "Feeds")]
SINCE_OPTIONS = [("24h", "the last 24 hours"), ("3d", "the last 3 days"),
                 ("7d", "the last 7 days"), ("30d", "the last 30 days")]
SCRIPTS = [("", "either"), ("simplified", "simplified 简体"), ("traditional", "traditional 繁體")]
PAGE_SIZE = 20
MATCH_BATCH = 200
NEW_PAGE_MATCHES = 500  # the New page shows at most this many matches
FEED_ENTRIES = 50
FEED_SUBSCRIPTION = "web"  # part of each entry's id: keep it, or readers see new entries
COVERAGE_DROP = 0.25  # a share this far below the earlier runs' median is flagged a drop


def page(request: Request, template: str, section: str, status: int = 200,
         **context: Any) -> HTMLResponse:
    """Render ``template`` with what every page needs (navigation, nonce, CSRF field,
    who may write)."""
    settings = settings_of(request)
    env = request.app.state.jinja
    access = settings.access
    common = {
        "nav": NAV, "section": section, "nonce": request.state.csp_nonce,
        "csrf": access.csrf_token(request.state.browser_id),
        "writer": access.is_writer(request) or getattr(request.state, "writer", False),
        "read_only": access.read_only,
        "writes_enabled": access.writes_enabled, "can_edit": access.writes_enabled,
        "edit_refusal": topicforms.edit_refusal(access), "zone": settings.zone,
    }
    html = env.get_template(template).render(**common, **context)
    return HTMLResponse(html, status_code=status)


def install_error_pages(app: FastAPI) -> None:
    """HTML error pages for the pages; the API keeps FastAPI's JSON errors."""
    app.state.jinja = environment(app.state.settings.zone)

    @app.exception_handler(StarletteHTTPException)
    async def html_errors(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return Response(json.dumps({"detail": exc.detail}), status_code=exc.status_code,
                            media_type="application/json", headers=exc.headers)
        titles = {404: "Not found", 405: "Method not allowed", 403: "Forbidden"}
        return page(request, "error.html", "", status=exc.status_code, code=exc.status_code,
                    title=titles.get(exc.status_code, "Error"), message=str(exc.detail))


# ------------------------------------------------------------------------------------
# New


@router.get("/", response_class=HTMLResponse)
def new_page(request: Request, since: str = "24h") -> HTMLResponse:
    settings = settings_of(request)
    if since not in dict(SINCE_OPTIONS):
        since = "24h"
    now = datetime.now(UTC)
    since_at = reading.parse_when(since, now) or now
    pending = matches_since(settings, since_at, limit=NEW_PAGE_MATCHES)
    digest = build_digest(FEED_SUBSCRIPTION, pending, now, settings.zone)
    has_topics = bool(topicforms.topic_rows(settings))
    return page(request, "new.html", "new", digest=digest, since=since, since_at=since_at,
                since_options=SINCE_OPTIONS, headline=digest_headline(digest),
                topic_summaries={g.topic: topic_summary(g) for g in digest.groups},
                story_summaries=_story_summaries(digest), has_topics=has_topics)


def _story_summaries(digest: Digest) -> dict[str, str]:
    return {story.key: story_summary(story) for group in digest.groups
            for story in group.stories}


def matches_since(settings: WebSettings, since: datetime, topics: tuple[str, ...] = (),
                  limit: int = NEW_PAGE_MATCHES) -> list[PendingMatch]:
    """Matches flagged new and recorded at or after ``since``, the newest ``limit``.

    Read through the API's forward cursor (oldest first), so this walks the match
    ledger from its start; fine for a newsroom's ledger, and the cursor makes each
    batch a keyed range read."""
    found: list[PendingMatch] = []
    cursor: str | None = None
    while True:
        batch = reading.new_matches(settings.database, cursor, MATCH_BATCH, topics)
        found.extend(_pending(row) for row in batch.matches if row.matched_at >= since)
        cursor = batch.cursor
        if not batch.more:
            break
    return found[-limit:]


def _pending(row: Any) -> PendingMatch:
    return PendingMatch(match_id=row.id, topic=row.topic, article_id=row.article_id,
                        title=row.title, url=row.url, source=row.source, site=row.site,
                        published_at=row.published_at, first_seen=row.matched_at,
                        snippet=row.snippet, hits=row.hits, story_id=row.story_id,
                        story_origin=row.story_origin)


# ------------------------------------------------------------------------------------
# Search


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    source: str = ""
    topic: str = ""
    since: str = ""  # a date, as <input type=date> sends it
    until: str = ""
    script: str = ""
    sort: str = "newest"

    def params(self, **extra: Any) -> str:
        values = {k: v for k, v in vars(self).items() if v and not (k == "sort" and
                                                                   v == "newest")}
        values.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(values)

    @property
    def empty(self) -> bool:
        return not (self.q.strip() or self.source or self.topic or self.since or self.until
                    or self.script)


def _local_day(value: str, zone: str, field: str, end: bool = False) -> str | None:
    """A date from the form as the start (or, for ``end``, the end) of that day in
    the configured zone, ISO 8601."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise reading.BadValue(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), ZoneInfo(zone)).isoformat()


def search_request(form: SearchForm, zone: str, cursor: str | None = None,
                   limit: int = PAGE_SIZE) -> reading.SearchRequest:
    sort: reading.Sort = "relevance" if form.sort == "relevance" else "newest"
    return reading.SearchRequest(
        query=form.q, sources=(form.source,) if form.source else (),
        topics=(form.topic,) if form.topic else (),
        since=_local_day(form.since, zone, "from"), until=_local_day(form.until, zone, "to",
                                                                     end=True),
        script=form.script or None, sort=sort, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class QueryProblem:
    """A malformed query, split around the position where it went wrong."""

    message: str
    position: int
    before: str
    at: str
    after: str

    @classmethod
    def of(cls, error: reading.QueryError) -> QueryProblem:
        query, position = error.query, error.position
        return cls(str(error), position, query[:position], query[position:position + 1] or " ",
                   query[position + 1:])


@dataclass(frozen=True)
class ShownHit:
    article: Any
    title_segments: list[tuple[str, bool]]
    snippet_segments: tuple[tuple[str, bool], ...]


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", source: str = "", topic: str = "",
                since: str = "", until: str = "", script: str = "", sort: str = "newest",
                cursor: str | None = None, start: Annotated[int, Query(ge=1)] = 1
                ) -> HTMLResponse:
    settings = settings_of(request)
    form = SearchForm(q, source, topic, since, until, script, sort)
    context: dict[str, Any] = {"form": form, "q": q, "results": None, "error": None,
                               "problem": None, "scripts": SCRIPTS, "summary": "",
                               "first_number": start, "next_url": None,
                               "first_page_url": None, "export_csv": "", "export_jsonl": ""}
    context.update(_choices(settings))
    status = 200
    if not form.empty:
        try:
            found = reading.search(settings.database, search_request(form, settings.zone,
                                                                     cursor))
        except reading.QueryError as exc:
            context["error"], status = QueryProblem.of(exc), 400
        except reading.ReadingError as exc:
            context["problem"], status = str(exc), 400
        else:
            context.update(_results(form, found, start))
    return page(request, "search.html", "search", status=status, **context)


def _choices(settings: WebSettings) -> dict[str, list[str]]:
    return {"source_names": topicforms.source_names(settings),
            "topic_names": [topic.name for topic in topicforms.topic_rows(settings)]}


def _results(form: SearchForm, found: reading.SearchPage, start: int) -> dict[str, Any]:
    hits = []
    for hit in found.hits:
        variants = [text for text, matched in hit.snippet.segments if matched]
        hits.append(ShownHit(hit.article, highlight_segments(hit.article.title, variants),
                             hit.snippet.segments))
    last = start + len(hits) - 1
    summary = (f"results {start}–{last}" + ("" if found.more else " (the last)")
               if hits else "no article matches")
    return {
        "results": hits, "summary": summary,
        "next_url": (f"/search?{form.params(cursor=found.next_cursor, start=last + 1)}"
                     if found.next_cursor else None),
        "first_page_url": f"/search?{form.params()}" if start > 1 else None,
        "export_csv": f"/search/export?{form.params(format='csv')}",
        "export_jsonl": f"/search/export?{form.params(format='jsonl')}",
    }


@router.get("/search/export")
def search_export(request: Request, q: str = "", source: str = "", topic: str = "",
                  since: str = "", until: str = "", script: str = "",
                  format: str = "csv") -> Response:
    """Every result of the search, streamed, as ``newsmon export`` writes it."""
    settings = settings_of(request)
    if format not in ("csv", "jsonl"):
        raise HTTPException(400, "format must be csv or jsonl")
    form = SearchForm(q, source, topic, since, until, script)
    try:
        search = search_request(form, settings.zone)
        with settings.database.session() as session:  # checks the query before streaming
            reading.parse_search_query(session, search.query) if search.query.strip() else None
            reading.search_filters(session, search)
    except reading.ReadingError as exc:
        raise HTTPException(400, str(exc)) from None
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"newsmon-search.{format}"
    return StreamingResponse(_export_lines(settings, search, format), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _export_lines(settings: WebSettings, search: reading.SearchRequest, fmt: str
                  ) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, reading.EXPORT_COLUMNS)
    if fmt == "csv":
        yield "\ufeff"  # Excel reads a CSV without it in the local code page
        writer.writeheader()
    with settings.database.session() as session:
        for article in reading.iter_search_results(session, search):
            record = reading.export_record(article)
            if fmt == "jsonl":
                yield json.dumps(record, ensure_ascii=False) + "\n"
                continue
            writer.writerow({**record, "tags": ",".join(article.tags)})
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if fmt == "csv" and buffer.tell():
        yield buffer.getvalue()


# ------------------------------------------------------------------------------------
# Article


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: int) -> HTMLResponse:
    settings = settings_of(request)
    details = reading.article(settings.database, article_id)
    if details is None:
        raise HTTPException(404, f"no stored article with id {article_id}")
    paragraphs = [line.strip() for line in details.article.body.splitlines() if line.strip()]
    variants = [[str(h.get("variant")) for h in match.hits if h.get("variant")]
                for match in details.matches]
    return page(request, "article.html", "search", details=details, a=details.article,
                paragraphs=paragraphs, match_variants=variants,
                watch=_watch_view(reading.article_history(settings.database, article_id)))


def _watch_view(history: reading.History) -> dict[str, Any] | None:
    """The re-visits and versions of a watched article, each version with what changed
    from the one before (a summary, the old and new title, the body's changed lines)."""
    if history.watch is None:
        return None
    versions, previous = [], None
    for version in history.versions:
        entry: dict[str, Any] = {"v": version, "summary": "first version seen", "title": None,
                                 "lines": []}
        if previous is not None:
            old, new = previous.snapshot, version.snapshot
            entry["summary"] = diff_versions(old, new).summary()
            entry["title"] = (old.title, new.title) if old.title != new.title else None
            entry["lines"] = readable_diff(old.body, new.body)
        versions.append(entry)
        previous = version
    return {"state": history.watch, "checks": history.checks, "versions": versions}


# ------------------------------------------------------------------------------------
# Topics


@router.get("/topics", response_class=HTMLResponse)
def topics_page(request: Request) -> HTMLResponse:
    return topicforms.topics_view(request, page)


@router.post("/topics", response_class=HTMLResponse)
def topic_add(request: Request, name: Annotated[str, Form()] = "",
              query: Annotated[str, Form()] = "", since: Annotated[str, Form()] = "30d",
              csrf: Annotated[str, Form()] = "", token: Annotated[str, Form()] = ""
              ) -> HTMLResponse:
    return topicforms.save(request, page, None, name, query, since, csrf, token)


@router.post("/topics/try", response_class=HTMLResponse)
def topic_try(request: Request, name: Annotated[str, Form()] = "",
              query: Annotated[str, Form()] = "", since: Annotated[str, Form()] = "30d",
              editing: Annotated[str, Form()] = "") -> HTMLResponse:
    return topicforms.try_it(request, page, name, query, since, editing or None)


@router.get("/topics/{name}/edit", response_class=HTMLResponse)
def topic_edit_page(request: Request, name: str) -> HTMLResponse:
    return topicforms.edit_view(request, page, name)


@router.post("/topics/{name}", response_class=HTMLResponse)
def topic_edit(request: Request, name: str, query: Annotated[str, Form()] = "",
               since: Annotated[str, Form()] = "30d", csrf: Annotated[str, Form()] = "",
               token: Annotated[str, Form()] = "") -> HTMLResponse:
    return topicforms.save(request, page, name, name, query, since, csrf, token)


@router.post("/topics/{name}/remove", response_class=HTMLResponse)
def topic_remove(request: Request, name: str, csrf: Annotated[str, Form()] = "",
                 token: Annotated[str, Form()] = "") -> HTMLResponse:
    return topicforms.remove(request, page, name, csrf, token)


# ------------------------------------------------------------------------------------
# Login


def _safe_next(target: str) -> str:
    """Only a path on this site (no ``//host``, no scheme) may follow a login."""
    return target if target.startswith("/") and not target.startswith("//") else "/topics"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/topics") -> HTMLResponse:
    return page(request, "login.html", "", next=_safe_next(next), problem=None)


@router.post("/login", response_model=None)
def login(request: Request, token: Annotated[str, Form()] = "",
          csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/topics"
          ) -> Response:
    access = settings_of(request).access
    try:
        access.check_csrf(request, csrf)
        access.check_write(request, token)
        if not access.token_matches(token):
            raise AccessError("that is not the token", status=401)
    except AccessError as exc:
        return page(request, "login.html", "", status=exc.status, next=_safe_next(next),
                    problem=exc.message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    topicforms.set_login(response, access)
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    try:
        settings_of(request).access.check_csrf(request, csrf)
    except AccessError as exc:
        raise HTTPException(exc.status, exc.message) from None
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(AUTH_COOKIE)
    return response


# ------------------------------------------------------------------------------------
# Sources, runs, feeds


@dataclass(frozen=True)
class CoverageRow:
    started_at: datetime
    articles: int
    shares: list[tuple[str, bool]]  # (shown share, is a drop) for date, 来源, body


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    configured = [source.name for source in settings.config.sources]
    health = reading.sources_health(settings.database, configured, datetime.now(UTC))
    shown = []
    for item in health:
        status = item.status
        shown.append({
            "name": item.name, "flags": list(status.flags), "last": status.last,
            "last_new_at": status.last_new_at,
            "articles": sum(count for _, count in item.articles_per_day),
            "chart": daily_bars(item.name, item.articles_per_day),
            "errors": list(item.error_kinds.items()),
            "coverage": _coverage_rows(item.coverage),
        })
    return page(request, "sources.html", "sources", sources=shown, days=reading.HEALTH_DAYS)


def _coverage_rows(runs: list[reading.RunCoverage]) -> list[CoverageRow]:
    """Runs that stored articles, newest first, each share flagged when it fell well
    below the median of the runs before it."""
    counted = [run for run in runs if run.articles]
    rows = []
    for index, run in enumerate(counted):
        earlier = counted[index + 1:]
        shares = []
        for field in ("date_share", "source_share", "body_share"):
            value = getattr(run, field)
            before = [getattr(r, field) for r in earlier if getattr(r, field) is not None]
            drop = (value is not None and bool(before)
                    and median(before) - value >= COVERAGE_DROP)
            shares.append(("—" if value is None else f"{value:.0%}", drop))
        rows.append(CoverageRow(run.started_at, run.articles, shares))
    return rows


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, crawls: str | None = None) -> HTMLResponse:
    settings = settings_of(request)
    try:
        crawl_page = reading.crawl_runs(settings.database, crawls, limit=50)
    except reading.ReadingError as exc:
        raise HTTPException(400, str(exc)) from None
    return page(request, "runs.html", "runs",
                crawl_runs=[row.record for row in crawl_page.items],
                crawl_next=(f"/runs?{urlencode({'crawls': crawl_page.next_cursor})}"
                            if crawl_page.next_cursor else None),
                job_runs=reading.job_runs(settings.database, limit=30).items,
                digest_runs=reading.digest_runs(settings.database, limit=30).items)


@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(request: Request) -> HTMLResponse:
    settings = settings_of(request)
    return page(request, "feeds.html", "feeds", topics=topicforms.topic_rows(settings),
                base_url=str(request.base_url))


@router.get("/feeds/{name}.atom")
def topic_feed(request: Request, name: str) -> Response:
    """The topic's Atom feed: its newest flagged matches, one entry per story, made by
    the digest's Atom renderer (stable ids, so a reader updates rather than repeats)."""
    settings = settings_of(request)
    if name not in {topic.name for topic in topicforms.topic_rows(settings)}:
        raise HTTPException(404, f"no topic named {name!r}")
    now = datetime.now(UTC)
    pending = matches_since(settings, datetime.min.replace(tzinfo=UTC), (name,),
                            limit=FEED_ENTRIES)
    digest = build_digest(FEED_SUBSCRIPTION, pending, now, settings.zone)
    group = next((g for g in digest.groups if g.topic == name), None)
    if group is None:
        from newsmon.digest import TopicGroup

        group = TopicGroup(name, ())
    return Response(render_atom(digest, group), media_type="application/atom+xml")
