"""The full-text index on the database: candidate lookups, rebuild, size.

Migration ``0003`` creates the index (see its docstring): on SQLite a contentless FTS5
table kept in step by triggers that call :func:`register_search_functions`' SQL
function, on PostgreSQL an expression GIN index the server maintains itself. Both are
ordered by the packed "newest first" key of :func:`storage.fts_tokens.search_key`.

The index lives outside the SQLAlchemy models (an FTS5 virtual table and expression
indexes cannot be declared there), so schema comparisons skip it by name:
:func:`include_in_schema_compare`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
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
from sqlalchemy.orm import Session

from storage.fts_tokens import (
    MAX_ID,
    Prefilter,
    document_tokens,
    render_fts5,
    render_tsquery,
)
from storage.models import Article

__all__ = [
    "SEARCH_OBJECT_PREFIX",
    "article_id_of",
    "candidate_keys",
    "include_in_schema_compare",
    "key_column",
    "pg_token_condition",
    "rebuild_search_index",
    "register_search_functions",
    "search_index_bytes",
]

SEARCH_OBJECT_PREFIX = "article_search"  # the FTS5 table, its shadow tables, PG indexes

_fts = table("article_search", column("rowid", BigInteger))

# The key of storage.fts_tokens.search_key in SQLite SQL (migration 0003 has a copy).
SQLITE_KEY = ("((coalesce(min(max(CAST(strftime('%s', substr(published_at, 1, 19)) "
              "AS INTEGER) + 1, 1), 8589934591), 0) << 30) | id)")


def register_search_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the SQL function the index triggers call."""
    dbapi_connection.create_function("newsmon_search_tokens", 2, document_tokens,
                                     deterministic=True)


def include_in_schema_compare(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the search index out of model comparisons."""
    return not (name or "").startswith(SEARCH_OBJECT_PREFIX)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def key_column() -> ColumnElement[int]:
    """The "newest first" key of an article row, as SQL (PostgreSQL; SQLite uses rowids)."""
    return func.newsmon_search_key(Article.published_at, Article.id, type_=BigInteger)


def pg_token_condition(condition: Prefilter) -> ColumnElement[bool] | None:
    """``tokens @@ query`` for PostgreSQL, or None when the index cannot narrow."""
    query = render_tsquery(condition)
    if query is None:
        return None
    tokens = func.newsmon_search_tokens(Article.title_norm, Article.body_norm)
    return tokens.op("@@")(cast(bindparam("tsquery", query), TSQUERY))


def candidate_keys(session: Session, condition: Prefilter, low: int, high: int,
                   limit: int) -> list[int]:
    """SQLite: keys in ``[low, high]`` of articles the condition admits, newest first."""
    stmt: Select[tuple[int]] = (
        select(_fts.c.rowid)
        .where(text("article_search MATCH :expression").bindparams(
            expression=render_fts5(condition)))
        .where(_fts.c.rowid <= high, _fts.c.rowid >= low)
        .order_by(_fts.c.rowid.desc())
        .limit(limit))
    return list(session.scalars(stmt))


def article_id_of(key: int) -> int:
    return key & MAX_ID


def rebuild_search_index(session: Session) -> int:
    """Rebuild the whole index from the stored articles; returns how many are indexed.

    The triggers (SQLite) and the server (PostgreSQL) keep the index in step, so this is
    for repairs and for a migration that changes the token rules. Caller commits.
    """
    if is_postgresql(session):
        session.execute(text("REINDEX INDEX article_search_tokens"))
        session.execute(text("REINDEX INDEX article_search_key"))
    else:
        session.execute(text("INSERT INTO article_search(article_search) VALUES ('delete-all')"))
        session.execute(text(
            f"INSERT INTO article_search(rowid, tokens) SELECT {SQLITE_KEY}, "
            "newsmon_search_tokens(title_norm, body_norm) FROM articles"))
        session.execute(text("INSERT INTO article_search(article_search) VALUES ('optimize')"))
    return session.scalar(select(func.count(Article.id))) or 0


def search_index_bytes(session: Session) -> int:
    """Bytes the index takes in the database file(s)."""
    if is_postgresql(session):
        return int(session.scalar(text(
            "SELECT pg_relation_size('article_search_tokens') "
            "+ pg_relation_size('article_search_key')")) or 0)
    pages = session.scalar(text(
        "SELECT count(*) FROM dbstat WHERE name LIKE 'article\\_search%' ESCAPE '\\'"))
    return int(pages or 0) * int(session.scalar(text("PRAGMA page_size")) or 0)
