"""search index on PostgreSQL: single characters only where a run of hanzi ends

PostgreSQL only; nothing changes on SQLite. The GIN index of migration 0003 stored every
single character of every run of gram characters, a third of its (token, article)
postings, and came to 1.5-1.7x the text it indexes. From here the function stores, of
the single characters, only each run's last one; a 1-character query asks for every
token *starting* with its character (``'X':*``), which every article holding X has:
X either starts a stored bigram or ends its run (``newsmon.textnorm``, whose
``document_tokens(..., every_character=False)`` is the Python mirror).

The index is an expression index over an IMMUTABLE function, so replacing the function
must rebuild it in the same transaction: on a large archive this takes about a
millisecond per article (about 17 minutes for a million), and a line on stderr says so.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 23:10:00
"""

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANNOUNCE_FROM = 10_000  # articles; below this the rebuild takes seconds


def _search_index_migration() -> ModuleType:
    """Migration 0003, whose SQL for the function this one switches between: one frozen
    spelling of the separator ranges and token expressions, not two."""
    path = Path(__file__).with_name("0003_search_index.py")
    spec = importlib.util.spec_from_file_location("newsmon_migration_0003", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace_function(every_character: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    articles = bind.exec_driver_sql("SELECT count(*) FROM articles").scalar() or 0
    if articles >= ANNOUNCE_FROM:
        print(f"newsmon: rebuilding the search index over {articles:,} articles "
              f"(about {articles / 60_000:.0f} min)...", file=sys.stderr, flush=True)
    migration = _search_index_migration()
    # raw: the SQL is full of colons and backslashes
    bind.exec_driver_sql(migration.pg_tokens_function(every_character=every_character))
    bind.exec_driver_sql("REINDEX INDEX article_search_tokens")


def upgrade() -> None:
    _replace_function(every_character=False)


def downgrade() -> None:
    _replace_function(every_character=True)
