"""Reading the ledgers page by page, for the web view, the HTTP API and the MCP server.

Every listing is newest first and paged by key (``before`` an id, or ``after`` one for
matches new since a cursor), never by OFFSET: a page deep in the list costs what the
first one does. Plain values out; ORM rows stay here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from newsmon.status import RunRecord
from newsmon.storage._records import record_of
from newsmon.storage.digests import DigestRunRecord
from newsmon.storage.jobruns import JobRunRecord
from newsmon.storage.matches import match_rows
from newsmon.storage.models import Article, CrawlRun, DigestRun, JobRun, Match, Source, Story, Topic
from newsmon.storage.runs import run_record

__all__ = [
    "CrawlRunRow", "FieldCoverage", "MatchRow", "StorySummary", "crawl_runs",
    "daily_new_articles", "digest_runs", "field_coverage", "job_runs_before",
    "matches_after", "stories_before",
]


@dataclass(frozen=True, slots=True)
class StorySummary:
    """A story: the same news across outlets."""

    id: int
    first_seen: datetime
    origin: str | None  # the 来源 its copies name
    articles: int
    outlets: tuple[str, ...]  # crawl sources that carry it, sorted
    title: str  # the headline of its first article
    latest: datetime | None  # the newest publish time among its copies


def stories_before(session: Session, before: int | None, limit: int,
                   min_outlets: int = 1) -> list[StorySummary]:
    """Stories with an id below ``before`` (all when None), newest first.

    ``min_outlets`` > 1 keeps the stories carried by several crawl sources."""
    counted = (select(Article.story_id.label("story_id"), func.count().label("articles"),
                      func.count(func.distinct(Article.source_id)).label("outlets"),
                      func.min(Article.id).label("first_article"),
                      func.max(Article.published_at).label("latest"))
               .where(Article.story_id.is_not(None)).group_by(Article.story_id))
    if before is not None:
        counted = counted.where(Article.story_id < before)
    if min_outlets > 1:
        counted = counted.having(func.count(func.distinct(Article.source_id)) >= min_outlets)
    sub = counted.order_by(Article.story_id.desc()).limit(limit).subquery()
    rows = session.execute(
        select(Story.id, Story.first_seen, Story.origin, sub.c.articles, Article.title,
               sub.c.latest)
        .join(sub, sub.c.story_id == Story.id)
        .join(Article, Article.id == sub.c.first_article)
        .order_by(Story.id.desc())).all()
    outlets = _story_outlets(session, [row.id for row in rows])
    return [record_of(StorySummary, row, articles=int(row.articles),
                      outlets=outlets.get(row.id, ())) for row in rows]


def _story_outlets(session: Session, story_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    if not story_ids:
        return {}
    found: dict[int, set[str]] = {}
    for story_id, name in session.execute(
            select(Article.story_id, Source.name).join(Source, Article.source_id == Source.id)
            .where(Article.story_id.in_(list(story_ids))).distinct()):
        if story_id is None:
            continue
        found.setdefault(story_id, set()).add(name)
    return {story_id: tuple(sorted(names)) for story_id, names in found.items()}


@dataclass(frozen=True, slots=True)
class CrawlRunRow:
    id: int
    record: RunRecord


def crawl_runs(session: Session, before: int | None, limit: int,
               source: str | None = None) -> list[CrawlRunRow]:
    """Crawl runs with an id below ``before``, newest first (of one source if given)."""
    stmt = (select(Source.name, CrawlRun).join(Source, Source.id == CrawlRun.source_id)
            .order_by(CrawlRun.id.desc()).limit(limit))
    if before is not None:
        stmt = stmt.where(CrawlRun.id < before)
    if source is not None:
        stmt = stmt.where(Source.name == source)
    return [CrawlRunRow(run.id, run_record(name, run)) for name, run in session.execute(stmt)]


def job_runs_before(session: Session, before: int | None, limit: int) -> list[JobRunRecord]:
    """Scheduler job runs with an id below ``before``, newest first."""
    stmt = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(JobRun.id < before)
    return [record_of(JobRunRecord, row) for row in session.scalars(stmt)]


def digest_runs(session: Session, before: int | None, limit: int) -> list[DigestRunRecord]:
    """Digest runs with an id below ``before``, newest first."""
    stmt = select(DigestRun).order_by(DigestRun.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(DigestRun.id < before)
    return [record_of(DigestRunRecord, run) for run in session.scalars(stmt)]


def daily_new_articles(session: Session, since: datetime) -> dict[str, dict[date, int]]:
    """Per crawl source, articles first seen on each UTC day since ``since``."""
    day = func.date(Article.first_seen)
    rows = session.execute(
        select(Source.name, day, func.count()).join(Source, Article.source_id == Source.id)
        .where(Article.first_seen >= since).group_by(Source.name, day))
    counts: dict[str, dict[date, int]] = {}
    for name, when, count in rows:
        # SQLite's date() gives text, PostgreSQL's a date
        day_value = when if isinstance(when, date) else date.fromisoformat(str(when))
        counts.setdefault(name, {})[day_value] = int(count)
    return counts


@dataclass(frozen=True, slots=True)
class FieldCoverage:
    """Of the articles a run stored first, how many had each field."""

    articles: int
    with_date: int
    with_source: int  # 来源
    with_body: int


def field_coverage(session: Session, source: str, started_at: datetime,
                   finished_at: datetime | None) -> FieldCoverage:
    """Fields present among ``source``'s articles first seen during one run."""
    window = [Article.first_seen >= started_at]
    if finished_at is not None:
        window.append(Article.first_seen <= finished_at)
    present: Any = case((func.length(Article.body) > 0, 1), else_=0)
    row = session.execute(
        select(func.count(), func.count(Article.published_at), func.count(Article.source),
               func.coalesce(func.sum(present), 0))
        .join(Source, Article.source_id == Source.id)
        .where(Source.name == source, *window)).one()
    return FieldCoverage(*(int(value) for value in row))


@dataclass(frozen=True, slots=True)
class MatchRow:
    """A recorded topic match, with what a reader needs to see it."""

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
    hits: list[dict[str, Any]]
    story_id: int | None
    story_origin: str | None


def matches_after(session: Session, after: int, limit: int, topics: Sequence[str] = (),
                  new_only: bool = False) -> list[MatchRow]:
    """Matches recorded after match id ``after``, oldest first (a cursor that only moves
    forward: the last id read is the next call's ``after``)."""
    stmt = (match_rows().add_columns(Match.id, Match.is_new, Match.matched_at)
            .where(Match.id > after).order_by(Match.id).limit(limit))
    if topics:
        stmt = stmt.where(Topic.name.in_(list(topics)))
    if new_only:
        stmt = stmt.where(Match.is_new.is_(True))
    return [record_of(MatchRow, row, hits=list(row.hits or ())) for row in session.execute(stmt)]
