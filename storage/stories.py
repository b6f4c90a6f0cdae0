"""Stories: the same news across outlets, found by fingerprints kept in the database.

In the store transaction of a new or changed article, :func:`find_match` looks up the
earlier articles that share an LSH band key with it (``story_bands``; an exact copy
shares them all) and confirms the best by its body hash or by comparing MinHash
signatures (``crawler/dedup.py``); :func:`assign_story` then joins that article's
story — or opens a new one — and stores the article's own fingerprint and band keys,
so later articles, in this process or any other, find it.

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

from newsmon.storage._dialect import insert_for, is_postgresql
from newsmon.storage.models import Article, ArticleFingerprint, Story, StoryBand

# Any constant: the key of the advisory lock that serialises story assignment.
STORY_LOCK_KEY = 5_2020_0113
MAX_CANDIDATES = 50

# Compares two MinHash signatures: the estimated Jaccard similarity of their shingles.
SimilarityFn = Callable[[bytes, bytes], float]

# Core tables: these writes need no ORM unit of work, and skip its per-statement cost.
_ARTICLES = cast(Table, Article.__table__)
_STORIES = cast(Table, Story.__table__)
_FINGERPRINTS = cast(Table, ArticleFingerprint.__table__)
_BANDS = cast(Table, StoryBand.__table__)


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


def lock_stories(session: Session) -> None:
    """Serialise story assignment with every other writer until the transaction ends."""
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK_KEY})
    else:
        # Any write statement takes SQLite's write lock, even one that changes nothing.
        session.execute(_STORIES.update().where(_STORIES.c.id == -1)
                        .values(origin=_STORIES.c.origin))


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """The earlier article most like a new one (see :func:`find_match`)."""

    article_id: int
    source_id: int
    canonical_url: str
    how: str  # exact | near
    similarity: float


def find_match(session: Session, fingerprint: StoryPrint, *, source_id: int,
               canonical_url: str, similarity: SimilarityFn | None = None,
               threshold: float = 0.5) -> StoryMatch | None:
    """The stored article most similar to this fingerprint, if similar enough.

    An exact copy shares every band, so one query finds exact and near copies alike:
    the articles sharing band keys with it (most keys first), with their hash,
    signature, source and URL. The article stored under ``canonical_url`` itself is
    left out; among equally similar articles one of ``source_id`` comes first, so a
    page the same site serves at two addresses is recognised as such.
    """
    if not fingerprint.bands:
        return None  # a body too short to compare is never merged
    shared = func.count().label("shared")
    candidates = (select(StoryBand.article_id, shared)
                  .where(StoryBand.key.in_(fingerprint.bands))
                  .group_by(StoryBand.article_id).order_by(shared.desc(), StoryBand.article_id)
                  .limit(MAX_CANDIDATES).subquery())
    rows = session.execute(
        select(ArticleFingerprint.article_id, ArticleFingerprint.body_hash,
               ArticleFingerprint.signature, Article.source_id, Article.canonical_url)
        .join(candidates, candidates.c.article_id == ArticleFingerprint.article_id)
        .join(Article, Article.id == ArticleFingerprint.article_id)
        .where(Article.canonical_url != canonical_url)).all()
    best: tuple[tuple[float, bool, int], StoryMatch] | None = None
    for other, body_hash, signature, other_source, other_url in rows:
        exact = body_hash == fingerprint.body_hash
        score = 1.0 if exact else (
            similarity(fingerprint.signature, bytes(signature)) if similarity else 0.0)
        rank = (score, other_source == source_id, -other)
        if best is None or rank > best[0]:
            best = (rank, StoryMatch(other, other_source, other_url,
                                     "exact" if exact else "near", score))
    if best is None or best[1].similarity < threshold:
        return None
    return best[1]


def assign_story(session: Session, article_id: int, fingerprint: StoryPrint, *,
                 origin: str | None, now: datetime, is_new: bool = True,
                 match: StoryMatch | None = None) -> StoryAssignment:
    """Put a stored article into a story and record its fingerprint.

    Call :func:`lock_stories` first in the same transaction, and :func:`find_match`
    before storing the article: ``match`` is the earlier article it copies, whose
    story it joins; without one it opens a story. ``origin`` is the 来源 the article
    names; it becomes the story's origin when the story has none yet. A changed
    article (``is_new=False``) keeps its story; only its fingerprint is refreshed.
    """
    current = None
    if not is_new:
        current = session.scalar(select(Article.story_id).where(Article.id == article_id))
        _forget_fingerprint(session, article_id)
    assignment: StoryAssignment | None = None
    if current is not None:
        assignment = StoryAssignment(current, "kept")
    elif match is not None and match.article_id != article_id:
        assignment = StoryAssignment(_story_of(session, match.article_id, now), match.how)
        if origin:
            session.execute(_STORIES.update().where(_STORIES.c.id == assignment.story_id,
                                                    _STORIES.c.origin.is_(None))
                            .values(origin=origin))
    if assignment is None:
        story_id = session.execute(_STORIES.insert().values(first_seen=now, origin=origin)
                                   .returning(_STORIES.c.id)).scalar_one()
        assignment = StoryAssignment(story_id, "new")
    if assignment.how != "kept":
        session.execute(_ARTICLES.update().where(_ARTICLES.c.id == article_id)
                        .values(story_id=assignment.story_id))
    _remember_fingerprint(session, article_id, fingerprint)
    return assignment


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
    # Parameters, not literal VALUES lists: one cached statement, executemany for bands.
    session.execute(insert_for(session, _FINGERPRINTS)
                    .on_conflict_do_nothing(index_elements=["article_id"]),
                    {"article_id": article_id, "body_hash": fingerprint.body_hash,
                     "signature": fingerprint.signature})
    if fingerprint.bands:
        session.execute(insert_for(session, _BANDS)
                        .on_conflict_do_nothing(index_elements=["key", "article_id"]),
                        [{"key": key, "article_id": article_id} for key in fingerprint.bands])


def story_members(session: Session, story_id: int) -> Sequence[Article]:
    """The articles of a story, oldest first."""
    return session.scalars(select(Article).where(Article.story_id == story_id)
                           .order_by(Article.first_seen, Article.id)).all()
