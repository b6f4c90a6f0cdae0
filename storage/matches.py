"""The match ledger and the delivery ledger.

A (topic, article) pair is recorded once — the unique constraint makes re-crawls,
restarts and topic edits unable to flag it twice. A match reaches a subscription once:
it is marked delivered only after the channel accepted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from newsmon.storage._dialect import insert_for
from newsmon.storage._records import record_of
from newsmon.storage.models import Article, Delivery, Match, Source, Story, Topic
from newsmon.values import NewMatch, PendingMatch


def record_matches(session: Session, matches: Iterable[NewMatch], now: datetime) -> int:
    """Insert matches not yet recorded; returns how many were new pairs."""
    inserted = 0
    for match in matches:
        stmt = (insert_for(session, Match)
                .values(topic_id=match.topic_id, article_id=match.article_id,
                        is_new=match.is_new, hits=match.hits, snippet=match.snippet,
                        matched_at=now)
                .on_conflict_do_nothing(index_elements=["topic_id", "article_id"])
                .returning(Match.id))
        if session.scalar(stmt) is not None:
            inserted += 1
    return inserted


def match_rows() -> Select[*tuple[Any, ...]]:
    """Matches with their topic, article, crawl source and story: a
    :class:`PendingMatch`'s columns, labelled with its field names."""
    return (
        select(Match.id.label("match_id"), Topic.name.label("topic"),
               Article.id.label("article_id"), Article.title,
               Article.canonical_url.label("url"), Article.source, Source.name.label("site"),
               Article.published_at, Article.first_seen, Match.snippet, Match.hits,
               Article.story_id, Story.origin.label("story_origin"))
        .join(Topic, Match.topic_id == Topic.id)
        .join(Article, Match.article_id == Article.id)
        .join(Source, Article.source_id == Source.id)
        .outerjoin(Story, Article.story_id == Story.id)
    )


def undelivered_matches(session: Session, subscription: str,
                        topics: Sequence[str] | None = None) -> list[PendingMatch]:
    """Flagged matches that ``subscription`` has not received, oldest first.

    ``topics`` limits them to those topics (``None``: every topic).
    """
    stmt = (
        match_rows()
        .outerjoin(Delivery, and_(Delivery.match_id == Match.id,
                                  Delivery.subscription == subscription))
        .where(Match.is_new.is_(True), Delivery.id.is_(None))
        .order_by(Topic.name, Article.published_at, Match.id)
    )
    if topics is not None:
        stmt = stmt.where(Topic.name.in_(list(topics)))
    return [record_of(PendingMatch, row, delivered_at=None) for row in session.execute(stmt)]


def _delivered_rows(subscription: str) -> Select[*tuple[Any, ...]]:
    """:func:`match_rows` of the matches ``subscription`` received, with when."""
    return (
        match_rows().add_columns(Delivery.delivered_at)
        .join(Delivery, and_(Delivery.match_id == Match.id,
                             Delivery.subscription == subscription))
    )


def delivered_matches(session: Session, subscription: str, topics: Sequence[str] | None = None,
                      limit: int = 100) -> list[PendingMatch]:
    """The ``limit`` matches most recently delivered to ``subscription`` (newest first).

    A feed is a window, not a stream: the Atom feed of a topic shows these beside the
    new ones, so a feed reader that polls late still sees what it missed.
    """
    stmt = (_delivered_rows(subscription)
            .order_by(Delivery.delivered_at.desc(), Match.id.desc()).limit(limit))
    if topics is not None:
        stmt = stmt.where(Topic.name.in_(list(topics)))
    return [record_of(PendingMatch, row) for row in session.execute(stmt)]


def delivered_story_companions(session: Session, subscription: str,
                               pending: Sequence[PendingMatch]) -> list[PendingMatch]:
    """Matches ``subscription`` already received of the same topic and story as a
    pending one: a republished story's earlier outlets, shown beside its new copy."""
    stories = {match.story_id for match in pending if match.story_id is not None}
    if not stories:
        return []
    wanted = {(match.topic, match.story_id) for match in pending}
    stmt = (_delivered_rows(subscription)
            .where(Article.story_id.in_(sorted(stories)),
                   Topic.name.in_(sorted({match.topic for match in pending})))
            .order_by(Match.id))
    return [record_of(PendingMatch, row) for row in session.execute(stmt)
            if (row.topic, row.story_id) in wanted]


def mark_delivered(session: Session, match_ids: Iterable[int], subscription: str,
                   now: datetime) -> None:
    """Record delivery (idempotent: marking twice is harmless)."""
    for match_id in match_ids:
        session.execute(insert_for(session, Delivery)
                        .values(match_id=match_id, subscription=subscription, delivered_at=now)
                        .on_conflict_do_nothing(index_elements=["match_id", "subscription"]))

