"""The full-text index on the database: lookups, counts, rebuild, size.

Migration ``0003`` creates the index (see its docstring): on SQLite a contentless FTS5
table under the article ids, kept in step by triggers that call the SQL function
:func:`register_search_functions` installs; on PostgreSQL an expression GIN index the
server maintains itself. What it holds is :func:`newsmon.textnorm.document_tokens`; a
query's index condition is its plan's ``narrowing`` (:class:`newsmon.query.Plan`),
rendered here as an FTS5 ``MATCH`` or a ``tsquery``; :mod:`storage.search` decides how
to use it.

The index lives outside the SQLAlchemy models (an FTS5 virtual table and expression
indexes cannot be declared there), so schema comparisons skip it by name:
:func:`include_in_schema_compare`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    cast,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsmon.query import AllOf, AnyOf, Everything, IndexCondition
from newsmon.storage._dialect import is_postgresql
from newsmon.storage.models import Article
from newsmon.textnorm import (
    ALL_MARK,
    TITLE_MARK,
    UNINDEXED_MARK,
    document_tokens,
    is_gram_character,
)

if TYPE_CHECKING:  # storage.engine imports this module
    from newsmon.storage.engine import Database

__all__ = [
    "SEARCH_OBJECT_PREFIX",
    "count_candidates",
    "include_in_schema_compare",
    "is_postgresql",
    "pg_token_condition",
    "rebuild_search_index",
    "register_search_functions",
    "render_fts5",
    "render_tsquery",
    "search_index_bytes",
    "settle_search_index",
    "settle_search_index_quietly",
    "sqlite_candidates",
]

log = logging.getLogger(__name__)

SEARCH_OBJECT_PREFIX = "article_search"  # the FTS5 table, its shadow tables, PG indexes

_fts = table("article_search", column("rowid", Integer))


def register_search_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the SQL function the index triggers call."""
    dbapi_connection.create_function("newsmon_search_tokens", 2, document_tokens,
                                     deterministic=True)


def include_in_schema_compare(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the search index out of model comparisons."""
    return not (name or "").startswith(SEARCH_OBJECT_PREFIX)


def sqlite_candidates(condition: IndexCondition) -> Select[tuple[int]]:
    """SQLite: ids of the articles the condition admits (any order)."""
    return (select(_fts.c.rowid)
            .where(text("article_search MATCH :expression").bindparams(
                expression=render_fts5(condition))))


def count_candidates(session: Session, condition: IndexCondition, cap: int) -> int:
    """SQLite: how many articles the condition admits, counting no further than ``cap``.

    Cheap (FTS5 counts a few hundred thousand ids in milliseconds), so the search can
    choose between reading the index and walking the newest articles.
    """
    capped = sqlite_candidates(condition).limit(cap).subquery()
    return session.scalar(select(func.count()).select_from(capped)) or 0


def pg_token_condition(condition: IndexCondition) -> ColumnElement[bool] | None:
    """``tokens @@ query`` for PostgreSQL, or None when the index cannot narrow."""
    query = render_tsquery(condition)
    if query is None:
        return None
    tokens = func.newsmon_search_tokens(Article.title_norm, Article.body_norm)
    return tokens.op("@@")(cast(bindparam("tsquery", query), TSQUERY))


def render_fts5(condition: IndexCondition) -> str:
    """The SQLite FTS5 MATCH expression; over-long articles are always candidates."""
    if isinstance(condition, Everything):
        return _fts5_string(ALL_MARK)
    rendered = _render(condition, _fts5_string, " AND ", " OR ")
    return f"({rendered}) OR {_fts5_string(UNINDEXED_MARK)}"


def _render(condition: IndexCondition, lexeme: Callable[[str], str], both: str, either: str
            ) -> str:
    if isinstance(condition, AllOf):
        return both.join(map(lexeme, condition.tokens))
    if isinstance(condition, Everything):
        return lexeme(ALL_MARK)
    joiner = either if isinstance(condition, AnyOf) else both
    return joiner.join(f"({_render(child, lexeme, both, either)})"
                       for child in condition.children)


def _fts5_string(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def render_tsquery(condition: IndexCondition) -> str | None:
    """The PostgreSQL ``tsquery`` text, or None when nothing narrows (scan everything).

    PostgreSQL stores a gram character alone only where it ends its run, so a
    1-character gram token is asked as a prefix (``'X':*``: X starts a bigram or ends a
    run; see :mod:`newsmon.textnorm`).
    """
    if isinstance(condition, Everything):
        return None
    rendered = _render(condition, _tsquery_lexeme, " & ", " | ")
    return f"({rendered}) | {_tsquery_lexeme(UNINDEXED_MARK)}"


def _tsquery_lexeme(token: str) -> str:
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if is_gram_character(token.removeprefix(TITLE_MARK)) else quoted


def rebuild_search_index(session: Session) -> int:
    """Rebuild the whole index from the stored articles; returns how many are indexed.

    The triggers (SQLite) and the server (PostgreSQL) keep the index in step, so this is
    for repairs and for a migration that changes the token rules. Caller commits.
    """
    if is_postgresql(session):
        session.execute(text("REINDEX INDEX article_search_tokens"))
        session.execute(text("REINDEX INDEX article_search_order"))
    else:
        session.execute(text("INSERT INTO article_search(article_search) VALUES ('delete-all')"))
        session.execute(text(
            "INSERT INTO article_search(rowid, tokens) "
            "SELECT id, newsmon_search_tokens(title_norm, body_norm) FROM articles"))
        session.execute(text("INSERT INTO article_search(article_search) VALUES ('optimize')"))
    return session.scalar(select(func.count(Article.id))) or 0


def settle_search_index(session: Session) -> int:
    """Move the index's pending entries into the index proper; returns the pages moved.

    PostgreSQL adds new articles' tokens to the GIN index's pending list (up to
    ``gin_pending_list_limit``, 4 MB), and every lookup reads that list in full: about
    1 ms when cached, tens of ms when not, however rare the term. Autovacuum empties
    it eventually; each crawl run's topic matching calls this when it ends (the last
    write of the run), so the searches after it need not wait for that. SQLite's FTS5
    table merges as it goes: 0. Caller commits.
    """
    if not is_postgresql(session):
        return 0
    return int(session.scalar(text(
        "SELECT gin_clean_pending_list('article_search_tokens'::regclass)")) or 0)


def settle_search_index_quietly(database: Database) -> int:
    """:func:`settle_search_index` in a transaction of its own, for the end of a run:
    a failure (say, a role that does not own the index) costs speed, not data, so it
    is logged and gives 0."""
    try:
        with database.session() as session, session.begin():
            pages = settle_search_index(session)
    except SQLAlchemyError as exc:
        log.warning("could not fold pending entries into the search index (%s); searches "
                    "read them from the pending list until autovacuum does", exc)
        return 0
    if pages:
        log.info("search index: folded in %d pending pages", pages)
    return pages


def search_index_bytes(session: Session) -> int:
    """Bytes the index takes in the database file(s)."""
    if is_postgresql(session):
        return int(session.scalar(text(
            "SELECT pg_relation_size('article_search_tokens') "
            "+ pg_relation_size('article_search_order')")) or 0)
    pages = session.scalar(text(
        "SELECT count(*) FROM dbstat WHERE name LIKE 'article\\_search%' ESCAPE '\\'"))
    return int(pages or 0) * int(session.scalar(text("PRAGMA page_size")) or 0)
