"""Storing and reading articles.

Writes are idempotent upserts keyed by canonical URL: storing the same page twice is
a no-op apart from ``last_seen``, and two processes racing on one URL both end up with
one row. An article belongs to the source that stored it first; another source's
write to its URL changes nothing (``UpsertStatus.FOREIGN``). Callers own the
transaction.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsmon.storage._dialect import insert_for
from newsmon.storage._records import in_chunks, record_of
from newsmon.storage.models import Article, Source
from newsmon.values import NormalizedArticle


class UpsertStatus(enum.Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # The canonical URL is another source's article: nothing was written.
    FOREIGN = "canonical_foreign"


@dataclass(frozen=True, slots=True)
class UpsertOutcome:
    article_id: int
    status: UpsertStatus


def ensure_source(session: Session, name: str) -> int:
    """The id of the source row called ``name``, created if missing (race-safe)."""
    found = session.scalar(select(Source.id).where(Source.name == name))
    if found is not None:
        return found
    session.execute(insert_for(session, Source).values(name=name)
                    .on_conflict_do_nothing(index_elements=["name"]))
    source_id = session.scalar(select(Source.id).where(Source.name == name))
    assert source_id is not None
    return source_id


def _article_values(item: NormalizedArticle) -> dict[str, object]:
    art = item.article
    return {
        "url": art.url,
        "canonical_url": art.canonical_url,
        "title": art.title,
        "body": art.body,
        "title_norm": item.title_norm,
        "body_norm": item.body_norm,
        "source": art.source,
        "author": art.author,
        "editor": art.editor,
        "tags": list(art.tags),
        "published_at": art.published_at,
        "published_source": art.published_source,
        "updated_at": art.updated_at,
        "script": art.script,
        "encoding_declared": art.encoding_declared,
        "encoding_used": art.encoding_used,
        "content_hash": item.content_hash,
    }


def upsert_article(session: Session, source_id: int, item: NormalizedArticle) -> UpsertOutcome:
    """Insert a new article or refresh a known one; report which happened.

    An article whose normalised content changed is updated in place and queued for
    matching again (``matched_at`` cleared); its ``first_seen`` never moves, which is
    what keeps an updated article from counting as new. Only the owning source
    updates an article: for another one the answer is ``FOREIGN`` with the owner's
    article id, and the row is left as it was (``last_seen`` included).
    """
    url = item.article.canonical_url
    seen = item.fetched_at
    existing = session.execute(
        select(Article.id, Article.content_hash, Article.source_id)
        .where(Article.canonical_url == url)
    ).one_or_none()
    if existing is None:
        values = _article_values(item) | {"source_id": source_id, "first_seen": seen,
                                          "last_seen": seen}
        stmt = (insert_for(session, Article).values(**values)
                .on_conflict_do_nothing(index_elements=["canonical_url"])
                .returning(Article.id))
        new_id = session.scalar(stmt)
        if new_id is not None:
            return UpsertOutcome(new_id, UpsertStatus.NEW)
        # Another process stored it between our SELECT and INSERT: treat as known.
        existing = session.execute(
            select(Article.id, Article.content_hash, Article.source_id)
            .where(Article.canonical_url == url)
        ).one()
    article_id, old_hash, owner = existing
    if owner != source_id:  # the first source to store it owns it
        return UpsertOutcome(article_id, UpsertStatus.FOREIGN)
    if old_hash == item.content_hash:
        session.execute(update(Article).where(Article.id == article_id).values(last_seen=seen))
        return UpsertOutcome(article_id, UpsertStatus.UNCHANGED)
    session.execute(update(Article).where(Article.id == article_id).values(
        **_article_values(item), last_seen=seen, changed_at=seen, matched_at=None))
    return UpsertOutcome(article_id, UpsertStatus.UPDATED)


def known_canonical_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of ``urls`` are already stored (the incremental crawl's ledger)."""
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for chunk in in_chunks(wanted):
        found.update(session.scalars(select(Article.canonical_url)
                                     .where(Article.canonical_url.in_(chunk))))
    return found


@dataclass(frozen=True, slots=True)
class MatchableArticle:
    """What matching a stored article against topics reads of it."""

    id: int
    title: str
    body: str
    source: str | None
    title_norm: str
    body_norm: str
    published_at: datetime | None
    first_seen: datetime
    changed_at: datetime | None


def pending_match_articles(session: Session, limit: int = 500) -> list[MatchableArticle]:
    """Articles not yet matched against the topics (oldest first)."""
    return [record_of(MatchableArticle, row) for row in session.scalars(
        select(Article).where(Article.matched_at.is_(None)).order_by(Article.id).limit(limit))]


def iter_article_batches(session: Session, batch: int = 500,
                         published_since: datetime | None = None
                         ) -> Iterator[list[MatchableArticle]]:
    """Every stored article (published since a time, if given), in id order, ``batch``
    at a time (constant memory)."""
    last_id = 0
    since = [] if published_since is None else [Article.published_at >= published_since]
    while True:
        rows = [record_of(MatchableArticle, row) for row in session.scalars(
            select(Article).where(Article.id > last_id, *since).order_by(Article.id)
            .limit(batch))]
        if not rows:
            return
        yield rows
        last_id = rows[-1].id
        session.expunge_all()


def mark_matched(session: Session, article_ids: Sequence[int], when: datetime) -> None:
    if article_ids:
        session.execute(update(Article).where(Article.id.in_(article_ids))
                        .values(matched_at=when))
