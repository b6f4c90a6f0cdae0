"""Searching stored articles with the topic query language, through the full-text index.

Two steps, so results are exact whatever the index can express:

1. **Narrow** with the index (:mod:`storage.fts`): the query becomes a condition on
   character bigrams, single characters and Latin words of the normalised text that
   every matching article satisfies (:func:`storage.fts_tokens.prefilter`). Candidates
   come back in "newest first" key order, a batch at a time, so a search for the newest
   20 matches of a term found in half the archive reads a few dozen rows, not half the
   archive.
2. **Check** every candidate with the reference matcher
   (:func:`newsmon.query.matches`: substrings, phrases, word boundaries, ``NOT``,
   ``source:``) on its stored normalised title and body.

So the result is exactly what a scan of every article with ``matches`` returns, in the
same order (tests check this on SQLite and PostgreSQL). Filters (time, crawl source,
topic, flagged-new) are applied in SQL. Everything here streams: memory does not grow
with the number of matches, except for the top-k heap of relevance sorting.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, Select, and_, exists, select
from sqlalchemy.orm import Session

from newsmon.query import Node, find_term, matches, positive_terms
from storage.fts import (
    article_id_of,
    candidate_keys,
    is_postgresql,
    key_column,
    pg_token_condition,
)
from storage.fts_tokens import (
    EVERYTHING,
    ID_BITS,
    MAX_ID,
    MAX_SECONDS,
    Prefilter,
    prefilter,
    search_key,
)
from storage.models import Article, Match, Source, Topic

__all__ = [
    "FoundArticle",
    "SearchFilters",
    "Sort",
    "count_matches",
    "find_article",
    "iter_search",
    "search_articles",
    "source_names",
]

Sort = Literal["newest", "relevance"]

FIRST_BATCH = 64
MAX_BATCH = 1000  # bounds memory: one batch of rows (with bodies) at a time
MAX_KEY = (MAX_SECONDS << ID_BITS) | ((1 << ID_BITS) - 1)  # 2**63 - 1: SQL's largest integer


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What narrows a search besides the query; every field optional.

    ``since``/``until`` bound the publish time (articles without one are excluded by
    either); ``sources`` are crawl-source names; ``topics`` topic names the article must
    have matched; ``new_only`` keeps articles with a match flagged new (for one of
    ``topics`` when given).
    """

    since: datetime | None = None
    until: datetime | None = None
    sources: Sequence[str] = ()
    topics: Sequence[str] = ()
    new_only: bool = False


@dataclass(frozen=True, slots=True)
class FoundArticle:
    """One stored article as search and export hand it out (plain values)."""

    id: int
    site: str  # the crawl source's name
    url: str
    canonical_url: str
    title: str
    body: str
    source: str | None  # the outlet the page names (来源)
    author: str | None
    editor: str | None
    tags: list[str]
    published_at: datetime | None
    first_seen: datetime
    story_id: int | None
    script: str


_COLUMNS = (Article.id, Source.name, Article.url, Article.canonical_url, Article.title,
            Article.body, Article.source, Article.author, Article.editor, Article.tags,
            Article.published_at, Article.first_seen, Article.story_id, Article.script,
            Article.title_norm, Article.body_norm)


@dataclass(frozen=True, slots=True)
class _Candidate:
    article: FoundArticle
    title_norm: str
    body_norm: str
    key: int


def _candidate(row: Row[*tuple[Any, ...]]) -> _Candidate:
    (article_id, site, url, canonical_url, title, body, source, author, editor, tags,
     published_at, first_seen, story_id, script, title_norm, body_norm) = row
    found = FoundArticle(article_id, site, url, canonical_url, title, body, source, author,
                         editor, list(tags or ()), published_at, first_seen, story_id, script)
    return _Candidate(found, title_norm, body_norm, article_key(published_at, article_id))


def article_key(published_at: datetime | None, article_id: int) -> int:
    """The "newest first" key of an article (see :func:`storage.fts_tokens.search_key`)."""
    second = None if published_at is None else math.floor(published_at.timestamp())
    return search_key(second, article_id)


def _filter_clauses(filters: SearchFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.since is not None:
        clauses.append(Article.published_at >= filters.since)
    if filters.until is not None:
        clauses.append(Article.published_at < filters.until)
    if filters.sources:
        clauses.append(Source.name.in_(list(filters.sources)))
    if filters.topics or filters.new_only:
        match = and_(Match.article_id == Article.id,
                     *([Match.is_new.is_(True)] if filters.new_only else []))
        if filters.topics:
            match = and_(match, Match.topic_id == Topic.id,
                         Topic.name.in_(list(filters.topics)))
            clauses.append(exists().where(match).select_from(Match, Topic))
        else:
            clauses.append(exists().where(match))
    return clauses


def _key_bounds(filters: SearchFilters) -> tuple[int, int]:
    """Keys ``[low, high]`` that can hold articles inside the time filters (a superset:
    whole seconds; the SQL filter is exact)."""
    low = 0 if filters.since is None else article_key(filters.since, 1) - 1
    high = MAX_KEY if filters.until is None else article_key(filters.until, MAX_ID)
    return low, high


def _rows() -> Select[*tuple[Any, ...]]:
    return select(*_COLUMNS).join(Source, Article.source_id == Source.id)


def _iter_candidates(session: Session, condition: Prefilter, filters: SearchFilters
                     ) -> Iterator[_Candidate]:
    """Articles the index admits and the filters keep, newest first, batch by batch."""
    low, high = _key_bounds(filters)
    clauses = _filter_clauses(filters)
    size = FIRST_BATCH
    batch_of = _pg_batch if is_postgresql(session) else _sqlite_batch
    while True:
        batch, last_key = batch_of(session, condition, clauses, low, high, size)
        yield from batch
        if last_key is None:
            return
        high = last_key - 1  # keyset paging: the next batch starts below this one
        size = min(size * 4, MAX_BATCH)


def _sqlite_batch(session: Session, condition: Prefilter, clauses: list[ColumnElement[bool]],
                  low: int, high: int, size: int) -> tuple[list[_Candidate], int | None]:
    """Keys from FTS5 (in order), then those rows with the filters; last key if more."""
    keys = candidate_keys(session, condition, low, high, size)
    if not keys:
        return [], None
    wanted = [article_id_of(key) for key in keys]
    rows = session.execute(_rows().where(Article.id.in_(wanted), *clauses))
    found = {candidate.article.id: candidate for candidate in map(_candidate, rows)}
    ordered = [found[article_id] for article_id in wanted if article_id in found]
    return ordered, (keys[-1] if len(keys) == size else None)


def _pg_batch(session: Session, condition: Prefilter, clauses: list[ColumnElement[bool]],
              low: int, high: int, size: int) -> tuple[list[_Candidate], int | None]:
    """Rows the GIN index admits, filtered and ordered by the key index; last key if more."""
    key = key_column()
    stmt = _rows().where(key <= high, key >= low, *clauses)
    tokens = pg_token_condition(condition)
    if tokens is not None:
        stmt = stmt.where(tokens)
    batch = [_candidate(row) for row in session.execute(stmt.order_by(key.desc()).limit(size))]
    more = batch[-1].key if len(batch) == size else None
    return batch, more


def _is_match(node: Node, candidate: _Candidate) -> bool:
    return matches(node, {"title": candidate.title_norm, "body": candidate.body_norm,
                          "source": candidate.article.source or ""})


def _iter_matches(session: Session, node: Node | None, filters: SearchFilters
                  ) -> Iterator[_Candidate]:
    condition = EVERYTHING if node is None else prefilter(node)
    for candidate in _iter_candidates(session, condition, filters):
        if node is None or _is_match(node, candidate):
            yield candidate


def iter_search(session: Session, node: Node | None, filters: SearchFilters = SearchFilters()
                ) -> Iterator[FoundArticle]:
    """Articles matching ``node`` (every article when None), newest first, streamed.

    Newest first means by publish time to the second, then by id; articles without a
    publish time come last.
    """
    for candidate in _iter_matches(session, node, filters):
        yield candidate.article


def search_articles(session: Session, node: Node | None,
                    filters: SearchFilters = SearchFilters(), limit: int = 20,
                    offset: int = 0, sort: Sort = "newest") -> list[FoundArticle]:
    """One page of results: newest first (stops early) or by relevance (ranks all)."""
    if sort == "relevance" and node is not None:
        return _by_relevance(session, node, filters, limit, offset)
    found: list[FoundArticle] = []
    for index, article in enumerate(iter_search(session, node, filters)):
        if index >= offset + limit:
            break
        if index >= offset:
            found.append(article)
    return found


def find_article(session: Session, article_id: int) -> FoundArticle | None:
    """One stored article by id, in the shape search returns."""
    row = session.execute(_rows().where(Article.id == article_id)).one_or_none()
    return None if row is None else _candidate(row).article


def source_names(session: Session) -> list[str]:
    """Names of every crawl source stored, sorted."""
    return list(session.scalars(select(Source.name).order_by(Source.name)))


def count_matches(session: Session, node: Node | None,
                  filters: SearchFilters = SearchFilters()) -> int:
    """How many articles match (reads every match: cost grows with the count)."""
    return sum(1 for _ in _iter_matches(session, node, filters))


# --------------------------------------------------------------------------------------
# Relevance

TITLE_WEIGHT = 3.0  # a hit in the headline says more than one in the body
SATURATION = 1.2  # BM25's k1: the tenth hit adds little
LENGTH_DAMPING = 0.75  # BM25's b: long articles need more hits for the same score
TYPICAL_LENGTH = 1500  # characters; a fixed stand-in for the archive's mean body length
MAX_COUNTED_HITS = 50


def relevance(node: Node, title_norm: str, body_norm: str) -> float:
    """A BM25-like score from the occurrences of the query's positive terms."""
    length_factor = 1 - LENGTH_DAMPING + LENGTH_DAMPING * len(body_norm) / TYPICAL_LENGTH
    score = 0.0
    for term in positive_terms(node):
        in_title = _count_hits(term, title_norm) if term.field in (None, "title") else 0
        in_body = _count_hits(term, body_norm) if term.field in (None, "body") else 0
        weight = TITLE_WEIGHT * in_title + in_body
        score += weight * (SATURATION + 1) / (weight + SATURATION * length_factor)
    return score


def _count_hits(term: Any, text: str) -> int:
    count, at = 0, find_term(term, text)
    while at >= 0 and count < MAX_COUNTED_HITS:
        count += 1
        at = find_term(term, text, at + max(1, len(term.norm)))
    return count


def _by_relevance(session: Session, node: Node, filters: SearchFilters, limit: int,
                  offset: int) -> list[FoundArticle]:
    keep = offset + limit
    heap: list[tuple[float, int, FoundArticle]] = []
    for candidate in _iter_matches(session, node, filters):
        entry = (relevance(node, candidate.title_norm, candidate.body_norm), candidate.key,
                 candidate.article)
        if len(heap) < keep:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)
    ranked = sorted(heap, key=lambda entry: entry[:2], reverse=True)  # ties: newest first
    return [article for _, _, article in ranked[offset:]]
