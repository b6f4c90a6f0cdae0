"""Stories: the same news across outlets, found by fingerprints kept in the database.

:func:`assign_story` runs in the store transaction of a new or changed article. It
looks up the earlier articles that share an LSH band key with it (``story_bands``; an
exact copy shares them all), confirms the best by its body hash or by comparing
MinHash signatures (``crawler/dedup.py``), and joins that article's story — or opens
a new one. Then it stores the article's own fingerprint and band keys, so later
articles, in this process or any other, find it.

Two processes must not both open a story for two copies of the same news, so a
store transaction calls :func:`lock_stories` first: on PostgreSQL a
transaction-scoped advisory lock, on SQLite the database write lock (SQLite has one
writer at a time; taking it before reading means no other writer can slip in
between our reads and our writes). Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.orm import Session

from storage._dialect import insert_for
from storage.models import Article, ArticleFingerprint, Story, StoryBand

# Any constant: the key of the advisory lock that serialises story assignment.
STORY_LOCK_KEY = 5_2020_0113
MAX_CANDIDATES = 50

# Compares two MinHash signatures: the estimated Jaccard similarity of their shingles.
SimilarityFn = Callable[[bytes, bytes], float]

# Core tables: these writes need no ORM unit of work, and skip its per-statement cost.
_ARTICLES = cast(Table, Article.__table__)
_STORIES = cast(Table, Story.__table__)


@dataclass(frozen=True, slots=True)
class StoryPrint:
    """An article's dedup fingerprint as the store receives it (plain values)."""

    body_hash: str
    signature: bytes
    bands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    """Where an article went: ``how`` is ``exact``, ``near``, ``new`` or ``kept``."""

    story_id: int
    how: str
    similar_article_id: int | None = None
    similarity: float = 1.0


def lock_stories(session: Session) -> None:
    """Serialise story assignment with every other writer until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK_KEY})
    else:
        # Any write statement takes SQLite's write lock, even one that changes nothing.
        session.execute(_STORIES.update().where(_STORIES.c.id == -1)
                        .values(origin=_STORIES.c.origin))


def assign_story(session: Session, article_id: int, fingerprint: StoryPrint, *,
                 origin: str | None, now: datetime, is_new: bool = True,
                 similarity: SimilarityFn | None = None, threshold: float = 0.5
                 ) -> StoryAssignment:
    """Put a stored article into a story and record its fingerprint.

    Call :func:`lock_stories` first in the same transaction. ``similarity`` compares
    two signatures (``crawler.dedup.similarity``); articles at or above
    ``threshold`` are the same story. ``origin`` is the 来源 the article names; it
    becomes the story's origin when the story has none yet. A changed article
    (``is_new=False``) keeps its story; only its fingerprint is refreshed.
    """
    current = None
    if not is_new:
        current = session.scalar(select(Article.story_id).where(Article.id == article_id))
        _forget_fingerprint(session, article_id)
    assignment: StoryAssignment | None = None
    if current is not None:
        assignment = StoryAssignment(current, "kept")
    elif fingerprint.signature:  # a body too short to compare is never merged
        assignment = _match(session, article_id, fingerprint, now, similarity, threshold)
        if assignment is not None and origin:
            session.execute(_STORIES.update().where(_STORIES.c.id == assignment.story_id,
                                                    _STORIES.c.origin.is_(None))
                            .values(origin=origin))
    if assignment is None:
        story_id = session.execute(_STORIES.insert().values(first_seen=now, origin=origin)
                                   .returning(_STORIES.c.id)).scalar_one()
        assignment = StoryAssignment(story_id, "new", None, 0.0)
    if assignment.how != "kept":
        session.execute(_ARTICLES.update().where(_ARTICLES.c.id == article_id)
                        .values(story_id=assignment.story_id))
    _remember_fingerprint(session, article_id, fingerprint)
    return assignment


def _match(session: Session, article_id: int, fingerprint: StoryPrint, now: datetime,
           similarity: SimilarityFn | None, threshold: float) -> StoryAssignment | None:
    """The story of the most similar earlier article, if similar enough.

    An exact copy shares every band, so one query finds exact and near copies alike:
    articles sharing band keys, most keys first, with their hash and signature.
    """
    shared = func.count().label("shared")
    candidates = (select(StoryBand.article_id, shared)
                  .where(StoryBand.key.in_(fingerprint.bands), StoryBand.article_id != article_id)
                  .group_by(StoryBand.article_id).order_by(shared.desc(), StoryBand.article_id)
                  .limit(MAX_CANDIDATES).subquery())
    rows = session.execute(select(ArticleFingerprint.article_id, ArticleFingerprint.body_hash,
                                  ArticleFingerprint.signature)
                           .join(candidates,
                                 candidates.c.article_id == ArticleFingerprint.article_id)).all()
    best: tuple[float, int, str] | None = None
    for other, body_hash, signature in rows:
        score = 1.0 if body_hash == fingerprint.body_hash else (
            similarity(fingerprint.signature, bytes(signature)) if similarity else 0.0)
        if best is None or (score, -other) > (best[0], -best[1]):
            best = (score, other, "exact" if body_hash == fingerprint.body_hash else "near")
    if best is None or best[0] < threshold:
        return None
    score, other, how = best
    return StoryAssignment(_story_of(session, other, now), how, other, score)


def _story_of(session: Session, article_id: int, now: datetime) -> int:
    """The story of an existing article; one is opened for it if it has none (an
    article stored before stories existed)."""
    row = session.execute(select(Article.story_id, Article.source, Article.first_seen)
                          .where(Article.id == article_id)).one()
    if row.story_id is not None:
        return int(row.story_id)
    story_id = session.execute(_STORIES.insert().values(first_seen=row.first_seen or now,
                                                        origin=row.source)
                               .returning(_STORIES.c.id)).scalar_one()
    session.execute(_ARTICLES.update().where(_ARTICLES.c.id == article_id)
                    .values(story_id=story_id))
    return int(story_id)


def _forget_fingerprint(session: Session, article_id: int) -> None:
    session.execute(delete(StoryBand).where(StoryBand.article_id == article_id))
    session.execute(delete(ArticleFingerprint).where(ArticleFingerprint.article_id == article_id))


def _remember_fingerprint(session: Session, article_id: int, fingerprint: StoryPrint) -> None:
    session.execute(insert_for(session, ArticleFingerprint.__table__)
                    .values(article_id=article_id, body_hash=fingerprint.body_hash,
                            signature=fingerprint.signature)
                    .on_conflict_do_nothing(index_elements=["article_id"]))
    if fingerprint.bands:
        session.execute(insert_for(session, StoryBand.__table__)
                        .values([{"key": key, "article_id": article_id}
                                 for key in fingerprint.bands])
                        .on_conflict_do_nothing(index_elements=["key", "article_id"]))


def same_source_copy(session: Session, source_id: int, body_hash: str,
                     canonical_url: str) -> int | None:
    """An article of the same source with exactly this body stored under another URL
    (the same page reached by two addresses), if there is one."""
    return session.scalar(select(Article.id)
                          .join(ArticleFingerprint, ArticleFingerprint.article_id == Article.id)
                          .where(ArticleFingerprint.body_hash == body_hash,
                                 Article.source_id == source_id,
                                 Article.canonical_url != canonical_url)
                          .order_by(Article.id).limit(1))


def story_members(session: Session, story_id: int) -> Sequence[Article]:
    """The articles of a story, oldest first."""
    return session.scalars(select(Article).where(Article.story_id == story_id)
                           .order_by(Article.first_seen, Article.id)).all()


def get_story(session: Session, story_id: int) -> Story | None:
    return session.get(Story, story_id)
