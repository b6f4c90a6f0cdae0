"""Removing a source and everything stored for it (``newsmon sources remove --purge``)."""

from __future__ import annotations

from sqlalchemy import Delete, delete, func, select
from sqlalchemy.orm import Session

from newsmon.storage._records import rowcount
from newsmon.storage.models import (
    Article,
    ArticleFingerprint,
    ConditionalGetTrust,
    CrawlRun,
    Delivery,
    JobRun,
    Match,
    Source,
    Story,
    StoryBand,
    UrlRecord,
)


def purge_source(session: Session, name: str) -> dict[str, int]:
    """Delete the source ``name`` and every row that belongs to it; rows deleted per table.

    Deleted explicitly, child rows first, rather than left to ``ON DELETE CASCADE``:
    SQLite enforces foreign keys only when a connection asks for it. Stories left
    without an article are deleted too; a story another source still carries stays,
    with this source's copy no longer in it. The caller owns the transaction.
    """
    source_id = session.scalar(select(Source.id).where(Source.name == name))
    counts: dict[str, int] = {}
    if source_id is None:
        return counts
    articles = select(Article.id).where(Article.source_id == source_id)
    matches = select(Match.id).where(Match.article_id.in_(articles))
    stories = {story for story in session.scalars(select(Article.story_id).where(
        Article.source_id == source_id)) if story is not None}

    def remove(table: str, statement: Delete) -> None:
        # The rows go by SQL alone: nothing of this source is loaded in the session.
        counts[table] = rowcount(
            session.execute(statement.execution_options(synchronize_session=False)))

    remove("deliveries", delete(Delivery).where(Delivery.match_id.in_(matches)))
    remove("matches", delete(Match).where(Match.article_id.in_(articles)))
    remove("story_bands", delete(StoryBand).where(StoryBand.article_id.in_(articles)))
    remove("article_fingerprints",
           delete(ArticleFingerprint).where(ArticleFingerprint.article_id.in_(articles)))
    remove("url_ledger", delete(UrlRecord).where(UrlRecord.source_id == source_id))
    remove("conditional_get_trust",
           delete(ConditionalGetTrust).where(ConditionalGetTrust.source_id == source_id))
    remove("crawl_runs", delete(CrawlRun).where(CrawlRun.source_id == source_id))
    remove("job_runs", delete(JobRun).where(JobRun.job_id == f"crawl:{name}"))
    remove("articles", delete(Article).where(Article.source_id == source_id))
    remove("stories", delete(Story).where(Story.id.in_(_empty_stories(session, stories))))
    remove("sources", delete(Source).where(Source.id == source_id))
    return counts


def _empty_stories(session: Session, story_ids: set[int]) -> list[int]:
    """Those of ``story_ids`` no article belongs to any more."""
    if not story_ids:
        return []
    still = set(session.scalars(select(Article.story_id).where(Article.story_id.in_(story_ids))
                                .group_by(Article.story_id).having(func.count() > 0)))
    return sorted(story_ids - still)
