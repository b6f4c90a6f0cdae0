"""Reading one article in full: metadata, topic matches, and its story's other outlets.

What ``newsmon show`` prints; plain values out, so the CLI never touches ORM rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsmon.storage._records import record_of
from newsmon.storage.models import Article, Match, Source, Story, Topic
from newsmon.storage.search import FoundArticle, find_article

__all__ = ["ArticleDetails", "StoryArticle", "TopicMatch", "article_details"]


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A topic the article matched, as the match ledger recorded it."""

    topic: str
    is_new: bool  # flagged for digests when first matched
    matched_at: datetime
    snippet: str
    hits: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """Another outlet's copy of the same story."""

    id: int
    site: str
    source: str | None
    title: str
    url: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ArticleDetails:
    article: FoundArticle
    last_seen: datetime
    changed_at: datetime | None
    updated_at: datetime | None
    encoding_declared: str | None
    encoding_used: str
    matches: list[TopicMatch]
    story_origin: str | None
    story_articles: list[StoryArticle]  # the other articles of its story, oldest first
    published_source: str | None = None  # which evidence gave the publish time


def article_details(session: Session, article_id: int) -> ArticleDetails | None:
    """Everything stored about one article, or None when there is no such id."""
    article = find_article(session, article_id)
    if article is None:
        return None
    last_seen, changed_at, updated_at, declared, used, published_source = session.execute(
        select(Article.last_seen, Article.changed_at, Article.updated_at,
               Article.encoding_declared, Article.encoding_used, Article.published_source)
        .where(Article.id == article_id)).one()
    origin = None
    if article.story_id is not None:
        origin = session.scalar(select(Story.origin).where(Story.id == article.story_id))
    return ArticleDetails(article, last_seen, changed_at, updated_at, declared, used,
                          _topic_matches(session, article_id), origin,
                          _story_articles(session, article), published_source)


def _topic_matches(session: Session, article_id: int) -> list[TopicMatch]:
    rows = session.execute(
        select(Topic.name.label("topic"), Match.is_new, Match.matched_at, Match.snippet,
               Match.hits)
        .join(Topic, Match.topic_id == Topic.id)
        .where(Match.article_id == article_id).order_by(Topic.name))
    return [record_of(TopicMatch, row, hits=list(row.hits or ())) for row in rows]


def _story_articles(session: Session, article: FoundArticle) -> list[StoryArticle]:
    if article.story_id is None:
        return []
    rows = session.execute(
        select(Article.id, Source.name, Article.source, Article.title, Article.canonical_url,
               Article.published_at)
        .join(Source, Article.source_id == Source.id)
        .where(Article.story_id == article.story_id, Article.id != article.id)
        .order_by(Article.published_at.asc().nulls_last(), Article.id))
    return [StoryArticle(*row) for row in rows]
