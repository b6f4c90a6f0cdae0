"""Searching stored articles with the topic query language, through the full-text index.

Results are exact whatever the index can express, newest first:

1. **Narrow.** The plan's ``narrowing`` is a condition on the character bigrams,
   single characters and Latin words the index holds (:class:`newsmon.query.Plan`);
   every matching article satisfies it, and :mod:`storage.fts` renders it as SQL.
2. **Order.** "Newest first" is ``published_at`` descending, then id descending;
   articles without a publish time come last, newest id first. Two ways to get the
   newest candidates, chosen per query because each is fast where the other is slow:

   * *walk*: read the newest articles in order, a window at a time, keeping those whose
     normalised text contains the query's terms (a ``LIKE``-style superset, in SQL).
     A term found in 10% of the archive fills a page of 20 after ~200 rows.
   * *index*: take every candidate from the index and let the database sort them.
     A term found in 500 articles costs 500 look-ups, wherever they are in time.

   On SQLite the index counts a query's candidates in well under a millisecond (up to a
   cap), which picks the cheaper way up front; PostgreSQL walks first and, after each
   window that did not fill the page, weighs the rows still to walk against the
   candidates the GIN index would order, both estimated from the share of rows that
   matched (a rare term turns to the index after the first window).
3. **Check** every candidate with the reference matcher (:meth:`Plan.matches_keys`:
   substrings, phrases, word boundaries, ``NOT``, ``source:``) on its stored normalised
   title and body.

So the result is exactly what a scan of every article with ``Plan.matches`` returns, in the
same order (tests check this on SQLite and PostgreSQL). Filters (time, crawl source,
topic, flagged-new) are applied in SQL. Everything streams in batches of at most
:data:`MAX_BATCH` rows: memory does not grow with the number of matches, except for the
top-k heap of relevance sorting.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import Session

from newsmon.query import (
    EVERYTHING,
    And,
    Everything,
    IndexCondition,
    Node,
    Not,
    Plan,
    Term,
    find_term,
)
from newsmon.storage.fts import (
    count_candidates,
    is_postgresql,
    pg_token_condition,
    sqlite_candidates,
)
from newsmon.storage.models import Article, ArticleCheck, ArticleWatch, Match, Source, Topic
from newsmon.textnorm import normalize

__all__ = [
    "FoundArticle",
    "SearchFilters",
    "SearchPosition",
    "Sort",
    "count_matches",
    "find_article",
    "iter_search",
    "relevance",
    "search_articles",
    "source_names",
]

Sort = Literal["newest", "relevance"]

FIRST_BATCH = 64
MIN_BATCH = 8
MAX_BATCH = 1000  # bounds memory: one batch of rows (with their text) at a time
FIRST_WINDOW = 250  # newest articles a walk reads first; each further window doubles
WALK_BUDGET = 1500  # rows a walk may read without filling a page before using the index
# SQLite: ordering candidates costs ~1 us each (a covering index), a walk ~6 us a row
# (it reads the text) and needs about page / share-of-articles rows. Equal cost at
# candidates ~ sqrt(WALK_VS_INDEX * page * articles); below that, the index is cheaper.
WALK_VS_INDEX = 6.0
MIN_THRESHOLD = 500  # below this many candidates the index always wins
# PostgreSQL: a walk costs ~10 us a row (it de-TOASTs the text), the GIN index ~2.5 us a
# candidate; after each window the share of rows that matched estimates both (0: do not
# weigh, walk up to the budget).
PG_WALK_VS_INDEX = 4.0


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
    # Re-visits (storage/watch.py): "changed" (an edit was recorded) and/or
    # "taken_down" (the article's page is taken down now).
    watch: Sequence[str] = ()


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


# FoundArticle's fields by name, then the normalised text the matcher checks.
_COLUMNS = (Article.id, Source.name.label("site"), Article.url, Article.canonical_url,
            Article.title, Article.body, Article.source, Article.author, Article.editor,
            Article.tags, Article.published_at, Article.first_seen, Article.story_id,
            Article.script, Article.title_norm, Article.body_norm)


@dataclass(frozen=True, slots=True)
class _Candidate:
    article: FoundArticle
    title_norm: str
    body_norm: str


def _candidate(row: Row[*tuple[Any, ...]]) -> _Candidate:
    # Positional, not record_of: a query may read hundreds of candidates, and filling
    # the dataclass by field name costs half as much again a row (3.3 against 2.1 µs).
    (article_id, site, url, canonical_url, title, body, source, author, editor, tags,
     published_at, first_seen, story_id, script, title_norm, body_norm) = row
    found = FoundArticle(article_id, site, url, canonical_url, title, body, source, author,
                         editor, list(tags or ()), published_at, first_seen, story_id, script)
    return _Candidate(found, title_norm, body_norm)


def _rows() -> Select[*tuple[Any, ...]]:
    return select(*_COLUMNS).join(Source, Article.source_id == Source.id)


@dataclass(frozen=True, slots=True)
class _Keys:
    """The columns that order and filter candidates: the table's, or those a query on
    PostgreSQL reads off the index hits (so it need not visit every hit's row again)."""

    id: SQLColumnExpression[int]
    published_at: SQLColumnExpression[datetime | None]
    source_id: SQLColumnExpression[int]


_ARTICLE_KEYS = _Keys(Article.id, Article.published_at, Article.source_id)


def _filter_clauses(filters: SearchFilters, keys: _Keys = _ARTICLE_KEYS
                    ) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.since is not None:
        clauses.append(keys.published_at >= filters.since)
    if filters.until is not None:
        clauses.append(keys.published_at < filters.until)
    if filters.sources:
        named = select(Source.id).where(Source.name.in_(list(filters.sources)))
        clauses.append(keys.source_id.in_(named))
    if filters.topics or filters.new_only:
        match = and_(Match.article_id == keys.id,
                     *([Match.is_new.is_(True)] if filters.new_only else []))
        if filters.topics:
            match = and_(match, Match.topic_id == Topic.id,
                         Topic.name.in_(list(filters.topics)))
            clauses.append(exists().where(match).select_from(Match, Topic))
        else:
            clauses.append(exists().where(match))
    if "changed" in filters.watch:
        clauses.append(exists().where(ArticleCheck.article_id == keys.id,
                                      ArticleCheck.event == "edited"))
    if "taken_down" in filters.watch:
        clauses.append(exists().where(ArticleWatch.article_id == keys.id,
                                      ArticleWatch.state == "taken_down"))
    return clauses


def text_superset(node: Node) -> ColumnElement[bool]:
    """A plan's query rendered as a SQL condition every article matching it satisfies:
    its terms as substrings of the normalised columns. ``NOT`` narrows only where the
    substring test is exact (no word boundaries to check, not ``source:``)."""
    if isinstance(node, Term):
        exact = _substring_sql(node)
        return true() if exact is None else exact
    if isinstance(node, Not):
        inner = _exact_sql(node.child)
        return true() if inner is None else not_(inner)
    if isinstance(node, And):
        return and_(*(text_superset(child) for child in node.children))
    return or_(*(text_superset(child) for child in node.children))


def _substring_sql(term: Term) -> ColumnElement[bool] | None:
    """``LIKE '%term%'`` on the term's fields (None for ``source:``, stored as written)."""
    if term.field == "source":
        return None
    columns = {"title": Article.title_norm, "body": Article.body_norm}
    return or_(*(columns[f].contains(term.norm, autoescape=True) for f in term.scope))


def _exact_sql(node: Node) -> ColumnElement[bool] | None:
    """SQL true exactly when ``node`` matches, or None when SQL cannot say (a term that
    needs word boundaries; ``source:`` is not normalised in the table)."""
    if isinstance(node, Term):
        return None if node.bounded else _substring_sql(node)
    if isinstance(node, Not):
        inner = _exact_sql(node.child)
        return None if inner is None else not_(inner)
    parts = [_exact_sql(child) for child in node.children]
    if any(part is None for part in parts):
        return None
    exact = [part for part in parts if part is not None]
    return and_(*exact) if isinstance(node, And) else or_(*exact)


# --------------------------------------------------------------------------------------
# The order, in two segments


@dataclass(frozen=True, slots=True)
class _Segment:
    """Articles with a publish time (newest first), or those without (newest id first)."""

    dated: bool

    def where(self, keys: _Keys = _ARTICLE_KEYS) -> ColumnElement[bool]:
        if self.dated:
            return keys.published_at.is_not(None)
        return keys.published_at.is_(None)

    def order(self, keys: _Keys = _ARTICLE_KEYS) -> tuple[Any, ...]:
        if self.dated:
            return (keys.published_at.desc(), keys.id.desc())
        return (keys.id.desc(),)

    def below(self, after: _Position | None, keys: _Keys = _ARTICLE_KEYS
              ) -> list[ColumnElement[bool]]:
        """Rows after ``after`` in this order (keyset paging)."""
        if after is None:
            return []
        if self.dated:
            published = literal(after.published_at, Article.published_at.type)
            return [tuple_(keys.published_at, keys.id) < tuple_(published, after.id)]
        return [keys.id < after.id]


@dataclass(frozen=True, slots=True)
class _Position:
    """Where a batch ended in the order."""

    published_at: datetime | None
    id: int

    @classmethod
    def of(cls, candidate: _Candidate) -> _Position:
        return cls(candidate.article.published_at, candidate.article.id)


# A place in the "newest first" order: results after it continue a search (keyset
# paging: a page deep in the results costs what the first one does).
SearchPosition = _Position


def _segments(filters: SearchFilters) -> list[_Segment]:
    undated_possible = filters.since is None and filters.until is None
    return [_Segment(True), *([_Segment(False)] if undated_possible else [])]


# --------------------------------------------------------------------------------------
# Candidates


@dataclass(frozen=True, slots=True)
class _Strategy:
    """How to fetch candidates for one query: walk the newest rows, or ask the index."""

    condition: IndexCondition
    superset: ColumnElement[bool] | None  # the walk's text filter; None: every row
    filters: SearchFilters
    walk: bool
    segments: list[_Segment]
    articles: int | None = None  # PostgreSQL: the highest id, to weigh walk against index


def _strategy(session: Session, plan: Plan | None, filters: SearchFilters, page: int
              ) -> _Strategy:
    condition = EVERYTHING if plan is None else plan.narrowing
    segments = _segments(filters)
    if plan is None:
        return _Strategy(condition, None, filters, False, segments)  # every article, in order
    superset = text_superset(plan.root)
    if isinstance(condition, Everything):
        return _Strategy(condition, superset, filters, True, segments)
    articles = session.scalar(select(func.max(Article.id))) or 0
    if is_postgresql(session):  # no cheap candidate count: walk, and judge as it goes
        return _Strategy(condition, superset, filters, True, segments, articles)
    threshold = max(MIN_THRESHOLD, int(math.sqrt(WALK_VS_INDEX * page * articles)))
    many = count_candidates(session, condition, threshold) >= threshold
    return _Strategy(condition, superset, filters, many, segments)


def _iter_candidates(session: Session, how: _Strategy, first: int,
                     start: _Position | None = None) -> Iterator[_Candidate]:
    """Candidates in "newest first" order after ``start``, batch by batch, over both
    segments. The way one segment ended on carries over to the next: a rare term that
    turned to the index among dated articles would only walk the undated ones to turn
    again."""
    walk = how.walk
    for segment in how.segments:
        if start is not None and segment.dated and start.published_at is None:
            continue  # the start lies among the undated articles, after every dated one
        after = start if start is not None and segment.dated == (
            start.published_at is not None) else None
        walk = yield from _iter_segment(session, how, segment, first, walk, after)


def _iter_segment(session: Session, how: _Strategy, segment: _Segment, first: int, walk: bool,
                  after: _Position | None = None) -> Generator[_Candidate, None, bool]:
    """One segment's candidates in order after ``after``; returns whether it ended
    walking."""
    size, window, walked, found = first, FIRST_WINDOW, 0, 0
    # A query the index cannot narrow walks to the end; others give up after a budget.
    endless = isinstance(how.condition, Everything)
    while True:
        if walk:
            batch = _walk_window(session, how, segment, after, window, size)
            yield from batch
            if len(batch) < size:  # the whole window was read
                walked, found = walked + window, found + len(batch)
                walk = endless or _walk_on(how, walked, found, size)
                if walk:
                    after = _window_end(session, segment, after, window)
                    if after is None:
                        return True  # the window reached the end of the segment
                    window *= 2
                elif batch:
                    # The index goes on after the window's last match, not its last row:
                    # the rows between failed the filters or the walk's text test (a
                    # superset of the query), so none of them is a match the index way
                    # could add; asking where the window ended would cost a statement.
                    after = _Position.of(batch[-1])
                continue
            after = _Position.of(batch[-1])
        else:
            batch = _ordered_batch(session, how, segment, after, size)
            yield from batch
            if len(batch) < size:
                return False
            after = _Position.of(batch[-1])
        size = max(MIN_BATCH, min(size * 4, MAX_BATCH))


def _walk_on(how: _Strategy, walked: int, found: int, wanted: int) -> bool:
    """After a window that did not fill the batch of ``wanted``: walk on, or use the index?"""
    if walked >= WALK_BUDGET:
        return False
    if how.articles is None:  # SQLite counted the candidates up front and chose to walk
        return True
    if PG_WALK_VS_INDEX == 0:  # weighing turned off: walk up to the budget
        return True
    # The walk needs about (wanted - found) / share more rows; the index would order
    # about share * articles candidates.
    share = found / walked
    return share > 0 and (wanted - found) / share * PG_WALK_VS_INDEX < share * how.articles


def _walk_window(session: Session, how: _Strategy, segment: _Segment, after: _Position | None,
                 window: int, size: int) -> list[_Candidate]:
    """Of the next ``window`` articles in order, those passing the text superset and the
    filters (at most ``size``)."""
    recent = (select(Article.id, Article.published_at)
              .where(segment.where(), *segment.below(after))
              .order_by(*segment.order()).limit(window).subquery("recent"))
    # Ordered by the window's own columns, the join keeps the window's order, so the
    # database reads rows (and their text) only until the batch is full, not the whole
    # window (PostgreSQL: a 500-row window for a term in 5% of articles reads ~250).
    in_window = _Keys(recent.c.id, recent.c.published_at, Article.source_id)
    stmt = (_rows().join(recent, recent.c.id == Article.id)
            .where(how.superset if how.superset is not None else true(),
                   *_filter_clauses(how.filters))
            .order_by(*segment.order(in_window)).limit(size))
    return [_candidate(row) for row in session.execute(stmt)]


def _window_end(session: Session, segment: _Segment, after: _Position | None, window: int
                ) -> _Position | None:
    """The last article of the next ``window`` in order (None: the segment ends sooner)."""
    last = session.execute(
        select(Article.id, Article.published_at).where(segment.where(), *segment.below(after))
        .order_by(*segment.order()).offset(window - 1).limit(1)).one_or_none()
    return None if last is None else _Position(last.published_at, last.id)


def _ordered_batch(session: Session, how: _Strategy, segment: _Segment,
                   after: _Position | None, size: int) -> list[_Candidate]:
    """The next ``size`` candidates in order, from the index (or all rows if it cannot
    narrow)."""
    if isinstance(how.condition, Everything):
        stmt = _rows().where(segment.where(), *segment.below(after),
                             *_filter_clauses(how.filters))
        return [_candidate(row) for row in session.execute(stmt.order_by(*segment.order())
                                                           .limit(size))]
    if is_postgresql(session):
        return _pg_ordered_batch(session, how, segment, after, size)
    # SQLite: order the candidates by the covering index (id, published_at, source_id):
    # a rowid look-up would read each article's text to reach published_at. Then fetch
    # the winners' rows.
    order = (select(Article.id)
             .with_hint(Article, "INDEXED BY article_search_when", "sqlite")
             .where(segment.where(), *segment.below(after), *_filter_clauses(how.filters),
                    Article.id.in_(sqlite_candidates(how.condition)))
             .order_by(*segment.order()).limit(size))
    return _rows_in_order(session, list(session.scalars(order)))


def _pg_ordered_batch(session: Session, how: _Strategy, segment: _Segment,
                      after: _Position | None, size: int) -> list[_Candidate]:
    """PostgreSQL: the GIN index's hits with the keys that order and filter them (read in
    the same heap visit), the next ``size`` of them in order, and only then their rows:
    joining every hit's row first would visit each twice."""
    tokens = pg_token_condition(how.condition)
    assert tokens is not None
    # Alone in a materialised CTE, without ORDER BY/LIMIT, the token condition can only
    # sensibly be read from the GIN index: next to a LIMIT the planner may walk another
    # index and evaluate the token function (~1 ms) on every row.
    hits = (select(Article.id.label("id"), Article.published_at.label("published_at"),
                   Article.source_id.label("source_id"))
            .where(tokens).cte("search_hits").prefix_with("MATERIALIZED"))
    keys = _Keys(hits.c.id, hits.c.published_at, hits.c.source_id)
    wanted = (select(hits.c.id)
              .where(segment.where(keys), *segment.below(after, keys),
                     *_filter_clauses(how.filters, keys))
              .order_by(*segment.order(keys)).limit(size))
    stmt = _rows().where(Article.id.in_(wanted)).order_by(*segment.order())
    return [_candidate(row) for row in session.execute(stmt)]


def _rows_in_order(session: Session, wanted: list[int]) -> list[_Candidate]:
    """The candidates with these ids, in this order."""
    if not wanted:
        return []
    rows = {row[0]: row for row in session.execute(_rows().where(Article.id.in_(wanted)))}
    return [_candidate(rows[article_id]) for article_id in wanted]


# --------------------------------------------------------------------------------------
# Exact results


def _iter_matches(session: Session, plan: Plan | None, filters: SearchFilters,
                  first: int = FIRST_BATCH, after: _Position | None = None
                  ) -> Iterator[_Candidate]:
    if is_postgresql(session):
        # The token function's high declared cost makes the planner think these queries
        # are long: it would JIT-compile them and start a parallel worker, each of which
        # costs more (1-3 ms) than reading a few thousand index hits takes. For the rest
        # of this transaction only.
        session.execute(text("SELECT set_config('jit', 'off', true), "
                             "set_config('max_parallel_workers_per_gather', '0', true)"))
    how = _strategy(session, plan, filters, first)
    for candidate in _iter_candidates(session, how, max(MIN_BATCH, min(first, MAX_BATCH)),
                                      after):
        # The stored keys are normalised already: only the outlet name needs it.
        if plan is None or plan.matches_keys({
                "title": candidate.title_norm, "body": candidate.body_norm,
                "source": normalize(candidate.article.source or "")}):
            yield candidate


def iter_search(session: Session, plan: Plan | None, filters: SearchFilters = SearchFilters(),
                first: int = FIRST_BATCH, after: SearchPosition | None = None
                ) -> Iterator[FoundArticle]:
    """Articles matching ``plan`` (every article when None), newest first, streamed.

    ``first`` is the size of the first batch read: how many results the caller expects
    to want (later batches grow). ``after`` continues a search after that article
    (``SearchPosition(published_at, id)`` of the last one shown).
    """
    for candidate in _iter_matches(session, plan, filters, first, after):
        yield candidate.article


def search_articles(session: Session, plan: Plan | None,
                    filters: SearchFilters = SearchFilters(), limit: int = 20,
                    offset: int = 0, sort: Sort = "newest") -> list[FoundArticle]:
    """One page of results: newest first (stops early) or by relevance (ranks all)."""
    if sort == "relevance" and plan is not None:
        return _by_relevance(session, plan, filters, limit, offset)
    found: list[FoundArticle] = []
    for index, article in enumerate(iter_search(session, plan, filters, offset + limit)):
        if index >= offset:
            found.append(article)
        if len(found) == limit:
            break  # before asking for one more, which may cost another query
    return found


def find_article(session: Session, article_id: int) -> FoundArticle | None:
    """One stored article by id, in the shape search returns."""
    row = session.execute(_rows().where(Article.id == article_id)).one_or_none()
    return None if row is None else _candidate(row).article


def source_names(session: Session) -> list[str]:
    """Names of every crawl source stored, sorted."""
    return list(session.scalars(select(Source.name).order_by(Source.name)))


def count_matches(session: Session, plan: Plan | None,
                  filters: SearchFilters = SearchFilters()) -> int:
    """How many articles match (reads every match: cost grows with the count)."""
    return sum(1 for _ in _iter_matches(session, plan, filters, MAX_BATCH))


# --------------------------------------------------------------------------------------
# Relevance

TITLE_WEIGHT = 3.0  # a hit in the headline says more than one in the body
SATURATION = 1.2  # BM25's k1: the tenth hit adds little
LENGTH_DAMPING = 0.75  # BM25's b: long articles need more hits for the same score
TYPICAL_LENGTH = 1500  # characters; a fixed stand-in for the archive's mean body length
MAX_COUNTED_HITS = 50


def relevance(plan: Plan, title_norm: str, body_norm: str) -> float:
    """A BM25-like score from the occurrences of the query's positive terms."""
    length_factor = 1 - LENGTH_DAMPING + LENGTH_DAMPING * len(body_norm) / TYPICAL_LENGTH
    score = 0.0
    for term in plan.positive:
        in_title = _count_hits(term, title_norm) if "title" in term.scope else 0
        in_body = _count_hits(term, body_norm) if "body" in term.scope else 0
        weight = TITLE_WEIGHT * in_title + in_body
        score += weight * (SATURATION + 1) / (weight + SATURATION * length_factor)
    return score


def _count_hits(term: Term, text_: str) -> int:
    count, at = 0, find_term(term, text_)
    while at >= 0 and count < MAX_COUNTED_HITS:
        count += 1
        at = find_term(term, text_, at + max(1, len(term.norm)))
    return count


def _by_relevance(session: Session, plan: Plan, filters: SearchFilters, limit: int,
                  offset: int) -> list[FoundArticle]:
    keep = offset + limit
    heap: list[tuple[float, int, FoundArticle]] = []
    for order, candidate in enumerate(_iter_matches(session, plan, filters, MAX_BATCH)):
        # -order: among equal scores the earlier (newer) article ranks first
        entry = (relevance(plan, candidate.title_norm, candidate.body_norm), -order,
                 candidate.article)
        if len(heap) < keep:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)
    ranked = sorted(heap, key=lambda entry: entry[:2], reverse=True)
    return [article for _, _, article in ranked[offset:]]
