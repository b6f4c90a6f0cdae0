"""Searching stored articles with the topic query language.

The query's terms are compared on the script-normalised columns (``title_norm``,
``body_norm``), so 青島 and 青岛 find the same articles. SQL narrows the candidates
(``LIKE`` on the terms that must be present); every candidate is then checked with the
reference matcher :func:`newsmon.query.matches`, which applies word boundaries and
negation exactly. All values are bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from newsmon.query import DEFAULT_FIELDS, And, Node, Not, Or, Term, matches
from storage.models import Article, Source

_COLUMNS = {"title": Article.title_norm, "body": Article.body_norm}
SCAN_BATCH = 500


@dataclass(frozen=True, slots=True)
class SearchFilters:
    since: datetime | None = None
    until: datetime | None = None
    sources: Sequence[str] = ()


def candidate_filter(node: Node) -> ColumnElement[bool]:
    """A SQL condition every matching article satisfies (a superset, never fewer)."""
    if isinstance(node, Term):
        fields = DEFAULT_FIELDS if node.field is None else (node.field,)
        if any(f not in _COLUMNS for f in fields):
            return true()  # source is stored unnormalised: checked in Python
        return or_(*(_COLUMNS[f].contains(node.norm, autoescape=True) for f in fields))
    if isinstance(node, And):
        return and_(*(candidate_filter(child) for child in node.children))
    if isinstance(node, Or):
        return or_(*(candidate_filter(child) for child in node.children))
    if isinstance(node, Not):
        # LIKE cannot express the word-boundary rule, so a negation narrows nothing.
        return true()
    return false()


def _filters_clause(filters: SearchFilters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.since is not None:
        clauses.append(Article.published_at >= filters.since)
    if filters.until is not None:
        clauses.append(Article.published_at < filters.until)
    if filters.sources:
        clauses.append(Source.name.in_(list(filters.sources)))
    return clauses


def iter_search(session: Session, node: Node, filters: SearchFilters = SearchFilters()
                ) -> Iterator[Article]:
    """Matching articles, newest first (by publish time, then id)."""
    stmt = (select(Article).join(Source, Article.source_id == Source.id)
            .where(candidate_filter(node), *_filters_clause(filters))
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
            .execution_options(yield_per=SCAN_BATCH))
    for article in session.scalars(stmt):
        fields = {"title": article.title_norm, "body": article.body_norm,
                  "source": article.source or ""}
        if matches(node, fields):
            yield article


def search_articles(session: Session, node: Node, filters: SearchFilters = SearchFilters(),
                    limit: int = 20, offset: int = 0) -> list[Article]:
    """One page of :func:`iter_search`."""
    found: list[Article] = []
    for index, article in enumerate(iter_search(session, node, filters)):
        if index >= offset + limit:
            break
        if index >= offset:
            found.append(article)
    return found
