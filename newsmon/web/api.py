"""The JSON API under ``/api/v1``: articles, stories, topics, sources, runs, matches.

Every handler parses its input and calls a use-case of :mod:`newsmon.app` — the same
function ``newsmon search``/``show``/``topics``/``status`` and the web pages call — so
the API's search returns exactly what the CLI's ``search --json`` prints.

Responses are typed (pydantic) so FastAPI writes the OpenAPI document
(``/api/v1/openapi.json``) from them. Every error, including a malformed parameter,
has one shape, :class:`ErrorResponse`: ``{"error": {"kind", "message", "position",
"query"}}``, ``position`` being where a query went wrong. Listings page by cursor
(``next_cursor`` goes back as ``cursor``), never by offset. Reading is open; writes
need ``Authorization: Bearer $NEWSMON_WEB_TOKEN`` and are refused in read-only mode.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsmon.app import reading
from newsmon.app import topics as topic_cases
from newsmon.web.access import AccessError
from newsmon.web.app import WebSettings, settings_of

MAX_QUERY = 2000  # characters; a longer query is a mistake or an attack, not a search
MAX_NAME = 200


# --------------------------------------------------------------------------------------
# The error shape


ErrorKind = Literal["query", "bad_request", "not_found", "conflict", "unauthorized",
                    "forbidden", "validation"]


class Problem(BaseModel):
    kind: ErrorKind = Field(description="What went wrong, for programs to branch on.")
    message: str = Field(description="One line for people, naming the value at fault.")
    position: int | None = Field(
        None, description="kind=query: the character offset in the query where it failed.")
    query: str | None = Field(None, description="kind=query: the query as received.")


class ErrorResponse(BaseModel):
    error: Problem


def _problem(status: int, kind: ErrorKind, message: str, **extra: Any) -> JSONResponse:
    body = ErrorResponse(error=Problem(kind=kind, message=message, **extra))
    return JSONResponse(body.model_dump(), status_code=status)


def _as_problem(exc: Exception) -> JSONResponse | None:
    """The error response for an exception a use-case or the access check raised."""
    if isinstance(exc, reading.QueryError):
        return _problem(400, "query", str(exc), position=exc.position, query=exc.query)
    if isinstance(exc, topic_cases.TopicNotFound):
        return _problem(404, "not_found", str(exc))
    if isinstance(exc, topic_cases.TopicExists):
        return _problem(409, "conflict", str(exc))
    if isinstance(exc, reading.ReadingError):
        return _problem(400, "bad_request", str(exc))
    if isinstance(exc, AccessError):
        return _problem(exc.status, "unauthorized" if exc.status == 401 else "forbidden",
                        exc.message)
    if isinstance(exc, RequestValidationError):
        return _problem(422, "validation", _validation_message(exc))
    return None


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


class ProblemRoute(APIRoute):
    """Turns the use-cases' errors (and malformed parameters) into :class:`ErrorResponse`
    here, in the router, so the API's error shape does not depend on the app."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (reading.ReadingError, AccessError, RequestValidationError) as exc:
                response = _as_problem(exc)
                assert response is not None
                return response

        return handle


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A malformed query (with its position) "
          "or a value that cannot be used (unknown source or topic, bad date, cursor)."},
    422: {"model": ErrorResponse, "description": "A parameter of the wrong type or range."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such item."}}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No valid bearer token."},
    403: {"model": ErrorResponse, "description": "Read-only server, or writes disabled "
          "(NEWSMON_WEB_TOKEN unset)."},
}

router = APIRouter(route_class=ProblemRoute, responses=ERRORS)


def _require_writer(request: Request) -> WebSettings:
    settings = settings_of(request)
    settings.access.check_api_write(request)
    return settings


# --------------------------------------------------------------------------------------
# Articles


class Highlighted(BaseModel):
    text: str
    hit: bool = Field(description="True for the matched words.")


class ArticleSummary(BaseModel):
    """One search result: the fields ``newsmon search --json`` prints, and a snippet."""

    id: int
    url: str
    title: str
    source: str | None = Field(description="The outlet the page names (来源).")
    site: str = Field(description="The crawl source it came from.")
    published_at: str | None
    author: str | None
    editor: str | None = Field(description="责编, as the page names it.")
    tags: list[str]
    first_seen: str
    story_id: int | None
    script: str
    snippet: str
    highlighted: list[Highlighted]


class ArticleList(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; "
                                    "null on the last page.")


def _summary(hit: reading.SearchHit) -> ArticleSummary:
    record = reading.article_record(hit.article)
    return ArticleSummary.model_validate({
        **record, "script": hit.article.script, "snippet": hit.snippet.text,
        "highlighted": [{"text": text, "hit": is_hit} for text, is_hit in hit.snippet.segments]})


QueryText = Annotated[str, Query(max_length=MAX_QUERY, description=(
    "The topic query language: terms, \"phrases\", OR, NOT/-term, (), title:/body:/"
    "source:, topic:NAME. 青島 finds 青岛. Empty: every article."))]
Names = Annotated[list[str] | None, Query(max_length=50)]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the "
                                     "previous page.")]


@router.get("/articles", response_model=ArticleList, tags=["articles"],
            summary="Search articles (or list them all, newest first)")
def list_articles(
    request: Request,
    q: QueryText = "",
    source: Names = None,
    topic: Names = None,
    since: Annotated[str | None, Query(max_length=40, description="Published at or after: "
                                       "a duration back (7d) or an ISO date.")] = None,
    until: Annotated[str | None, Query(max_length=40, description="Published before.")
                     ] = None,
    script: reading.Script | None = None,
    new_only: bool = False,
    sort: reading.Sort = "newest",
    limit: Annotated[int, Query(ge=1, le=reading.MAX_PAGE)] = 20,
    cursor: Cursor = None,
) -> ArticleList:
    found = reading.search(settings_of(request).database, reading.SearchRequest(
        query=q, sources=tuple(source or ()), topics=tuple(topic or ()), since=since,
        until=until, script=script, new_only=new_only, sort=sort, limit=limit,
        cursor=cursor))
    return ArticleList(items=[_summary(hit) for hit in found.hits],
                       next_cursor=found.next_cursor)


class TopicMatchOut(BaseModel):
    topic: str
    is_new: bool
    matched_at: datetime
    snippet: str
    hits: list[dict[str, Any]]


class StoryArticleOut(BaseModel):
    id: int
    site: str
    source: str | None
    title: str
    url: str
    published_at: datetime | None


class StoryOfArticle(BaseModel):
    id: int
    origin: str | None = Field(description="The 来源 the story's copies name.")
    other_articles: list[StoryArticleOut]


class ArticleDetail(BaseModel):
    """Every stored field of one article (``newsmon show --json``)."""

    id: int
    url: str
    fetched_url: str
    title: str
    body: str
    source: str | None
    site: str
    author: str | None
    editor: str | None
    tags: list[str]
    published_at: datetime | None
    published_source: str | None
    updated_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    changed_at: datetime | None
    script: str
    encoding_declared: str | None
    encoding_used: str
    matches: list[TopicMatchOut]
    story: StoryOfArticle | None


Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/articles/{article_id}", response_model=ArticleDetail, tags=["articles"],
            responses=NOT_FOUND, summary="One article, its topic matches and its story")
def get_article(request: Request, article_id: Id) -> ArticleDetail | JSONResponse:
    details = reading.article(settings_of(request).database, article_id)
    if details is None:
        return _problem(404, "not_found", f"no stored article with id {article_id}")
    return ArticleDetail.model_validate(reading.article_json(details))


# --------------------------------------------------------------------------------------
# Stories


class StoryOut(BaseModel):
    id: int
    first_seen: datetime
    origin: str | None
    articles: int
    outlets: list[str]
    title: str
    latest: datetime | None


class StoryList(BaseModel):
    items: list[StoryOut]
    next_cursor: str | None


@router.get("/stories", response_model=StoryList, tags=["stories"],
            summary="Stories (the same news across outlets), newest first")
def list_stories(request: Request, cursor: Cursor = None,
                 limit: Annotated[int, Query(ge=1, le=reading.MAX_PAGE)] = 20,
                 min_outlets: Annotated[int, Query(ge=1, le=1000)] = 1) -> StoryList:
    found = reading.stories(settings_of(request).database, cursor, limit, min_outlets)
    return StoryList.model_validate(found, from_attributes=True)


# --------------------------------------------------------------------------------------
# Topics


class TopicOut(BaseModel):
    name: str
    query: str
    matches: int
    flagged: int = Field(description="Matches flagged new, for the next digest.")
    created_at: datetime
    updated_at: datetime


def _topic(topic: topic_cases.TopicSummary) -> TopicOut:
    return TopicOut.model_validate(topic, from_attributes=True)


class TopicIn(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    query: str = Field(min_length=1, max_length=MAX_QUERY)


class TopicQueryIn(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY)


class TopicChangeOut(BaseModel):
    topic: TopicOut
    articles: int = Field(description="Stored articles matched against the query.")
    new_matches: int
    flagged: int
    warnings: list[str]


def _change(change: topic_cases.TopicChange) -> TopicChangeOut:
    return TopicChangeOut(topic=_topic(change.topic), articles=change.stats.articles,
                          new_matches=change.stats.new_matches,
                          flagged=change.stats.flagged, warnings=change.warnings)


TopicName = Annotated[str, Path(min_length=1, max_length=MAX_NAME)]


@router.get("/topics", response_model=list[TopicOut], tags=["topics"],
            summary="Every topic with its match counts")
def list_topics(request: Request) -> list[TopicOut]:
    return [_topic(topic) for topic in topic_cases.list_topics(settings_of(request).database)]


@router.post("/topics", response_model=TopicChangeOut, status_code=201, tags=["topics"],
             responses={**WRITE_ERRORS, 409: {"model": ErrorResponse,
                                              "description": "The topic exists."}},
             summary="Add a topic and match it against the stored articles")
def add_topic(request: Request, topic: TopicIn) -> TopicChangeOut:
    settings = _require_writer(request)
    return _change(topic_cases.add_topic(settings.database, topic.name, topic.query,
                                         settings.config.settings.backfill_window))


class TrialIn(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY)
    since: str | None = Field(None, max_length=40,
                              description="Only articles published since: 30d or a date.")
    sample: int = Field(10, ge=0, le=topic_cases.MAX_SAMPLE)


class TrialHit(BaseModel):
    id: int
    title: str
    published_at: datetime | None
    snippet: str
    matched: list[str] = Field(description="The words as the article wrote them.")


class TrialOut(BaseModel):
    query: str
    scanned: int
    matched: int
    sample: list[TrialHit]
    warnings: list[str]


@router.post("/topics/test", response_model=TrialOut, tags=["topics"],
             summary="Try a query on the stored articles without saving anything")
def test_topic(request: Request, trial: TrialIn) -> TrialOut:
    result = topic_cases.backtest(settings_of(request).database, trial.query,
                                  since=trial.since, sample=trial.sample)
    return TrialOut.model_validate(result.as_json())


@router.get("/topics/{name}", response_model=TopicOut, tags=["topics"], responses=NOT_FOUND,
            summary="One topic")
def get_topic(request: Request, name: TopicName) -> TopicOut:
    return _topic(topic_cases.get_topic(settings_of(request).database, name))


@router.put("/topics/{name}", response_model=TopicChangeOut, tags=["topics"],
            responses={**WRITE_ERRORS, **NOT_FOUND},
            summary="Change a topic's query (recorded matches are kept)")
def edit_topic(request: Request, name: TopicName, topic: TopicQueryIn) -> TopicChangeOut:
    settings = _require_writer(request)
    return _change(topic_cases.edit_topic(settings.database, name, topic.query,
                                          settings.config.settings.backfill_window))


@router.delete("/topics/{name}", status_code=204, tags=["topics"],
               responses={**WRITE_ERRORS, **NOT_FOUND},
               summary="Stop tracking a topic (its matches are deleted)")
def remove_topic(request: Request, name: TopicName) -> Response:
    settings = _require_writer(request)
    topic_cases.remove_topic(settings.database, name)
    return Response(status_code=204)


# --------------------------------------------------------------------------------------
# Sources


class LastRun(BaseModel):
    started_at: str
    finished_at: str | None
    duration_seconds: float | None
    status: str
    finish_reason: str | None
    pages: int
    new: int
    updated: int
    unchanged: int
    skipped_known: int
    not_modified: int
    errors: dict[str, int]
    outcomes: dict[str, int]


class DayCount(BaseModel):
    day: str
    new: int


class RunCoverageOut(BaseModel):
    started_at: str
    status: str
    articles: int = Field(description="New articles the run stored.")
    date: float | None = Field(description="Share of them with a publish date.")
    source: float | None = Field(description="Share with a 来源 (the outlet named).")
    body: float | None = Field(description="Share with a body.")


class SourceHealthOut(BaseModel):
    source: str
    flags: list[str]
    silent: bool
    last_new_at: str | None
    runs: int
    last_run: LastRun | None
    articles_per_day: list[DayCount]
    error_kinds: dict[str, int]
    coverage: list[RunCoverageOut]


@router.get("/sources", response_model=list[SourceHealthOut], tags=["sources"],
            summary="Every source with its health")
def list_sources(request: Request) -> list[SourceHealthOut]:
    return _health(settings_of(request), None)


@router.get("/sources/{name}", response_model=SourceHealthOut, tags=["sources"],
            responses=NOT_FOUND, summary="One source's health")
def get_source(request: Request, name: Annotated[str, Path(max_length=MAX_NAME)]
               ) -> SourceHealthOut | JSONResponse:
    try:
        return _health(settings_of(request), name)[0]
    except reading.UnknownName as exc:
        return _problem(404, "not_found", str(exc))


def _health(settings: WebSettings, only: str | None) -> list[SourceHealthOut]:
    configured = [source.name for source in settings.config.sources]
    found = reading.sources_health(settings.database, configured, datetime.now(UTC), only)
    return [SourceHealthOut.model_validate(reading.health_record(health)) for health in found]


# --------------------------------------------------------------------------------------
# Runs


class CrawlRunOut(BaseModel):
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    failed: bool
    finish_reason: str | None
    pages: int
    new_articles: int
    updated_articles: int
    errors: dict[str, int]


class JobRunOut(BaseModel):
    id: int
    job_id: str
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    exit_code: int | None
    detail: str | None


class DigestRunOut(BaseModel):
    id: int
    subscription: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    channel: str
    matches: int
    error: str | None


class RunList(BaseModel):
    kind: reading.RunKind
    crawl: list[CrawlRunOut] = []
    job: list[JobRunOut] = []
    digest: list[DigestRunOut] = []
    next_cursor: str | None


@router.get("/runs", response_model=RunList, tags=["runs"],
            summary="Crawl, scheduler job or digest runs with their outcome, newest first")
def list_runs(request: Request, kind: reading.RunKind = "crawl",
              source: Annotated[str | None, Query(max_length=MAX_NAME,
                                                  description="kind=crawl only")] = None,
              cursor: Cursor = None,
              limit: Annotated[int, Query(ge=1, le=reading.MAX_PAGE)] = 50) -> RunList:
    database = settings_of(request).database
    if kind == "crawl":
        crawls = reading.crawl_runs(database, cursor, limit, source)
        return RunList(kind=kind, next_cursor=crawls.next_cursor, crawl=[CrawlRunOut(
            id=row.id, source=row.record.source, started_at=row.record.started_at,
            finished_at=row.record.finished_at, status=row.record.status,
            failed=row.record.failed, finish_reason=row.record.finish_reason,
            pages=row.record.pages, new_articles=row.record.new_articles,
            updated_articles=row.record.updated_articles, errors=dict(row.record.errors))
            for row in crawls.items])
    if kind == "job":
        jobs = reading.job_runs(database, cursor, limit)
        return RunList.model_validate({"kind": kind, "next_cursor": jobs.next_cursor,
                                       "job": jobs.items}, from_attributes=True)
    digests = reading.digest_runs(database, cursor, limit)
    return RunList.model_validate({"kind": kind, "next_cursor": digests.next_cursor,
                                   "digest": digests.items}, from_attributes=True)


# --------------------------------------------------------------------------------------
# Matches


class MatchOut(BaseModel):
    id: int
    topic: str
    is_new: bool
    matched_at: datetime
    article_id: int
    title: str
    url: str
    site: str
    source: str | None
    published_at: datetime | None
    snippet: str
    story_id: int | None
    story_origin: str | None


class MatchList(BaseModel):
    items: list[MatchOut]
    cursor: str = Field(description="Poll again with this cursor to get only what was "
                        "recorded after these.")
    more: bool = Field(description="More are waiting: ask again at once.")


@router.get("/matches", response_model=MatchList, tags=["matches"],
            summary="Topic matches recorded since a cursor, oldest first")
def list_matches(request: Request, cursor: Cursor = None, topic: Names = None,
                 all_matches: Annotated[bool, Query(alias="all", description=(
                     "Include backfilled matches not flagged new."))] = False,
                 limit: Annotated[int, Query(ge=1, le=reading.MAX_PAGE)] = 100) -> MatchList:
    found = reading.new_matches(settings_of(request).database, cursor, limit,
                                tuple(topic or ()), new_only=not all_matches)
    return MatchList.model_validate({"items": found.matches, "cursor": found.cursor,
                                     "more": found.more}, from_attributes=True)


__all__ = ["ErrorResponse", "Problem", "router"]
