"""search index: bigram/word full-text index over the normalised title and body

SQLite: a contentless FTS5 table ``article_search`` (detail=none, ascii tokenizer)
holding the tokens of ``newsmon.textnorm.document_tokens`` under the article's id
(dense rowids keep its doclists small). Three triggers keep it in step with every
INSERT, DELETE and UPDATE of ``articles``; they call the SQL function
``newsmon_search_tokens``, which ``storage.engine`` registers on every connection. A
later migration that *recreates* ``articles`` on SQLite (batch mode) drops these
triggers and must create them again (``tests/test_search_index.py`` notices). A covering
index ``article_search_when`` (id, published_at, source_id) lets candidates be put in
date order without reading their text.

PostgreSQL: an expression GIN index over ``newsmon_search_tokens(title_norm,
body_norm)``, a SQL function spelling the same character classes as
``newsmon.textnorm`` (from its constants); PostgreSQL maintains it on every write and
nothing extra is stored in the table. The function costs about a millisecond per article, and its
declared COST says so, so that the planner reads the GIN index instead of evaluating it
row by row. A btree over ``(published_at, id)`` serves "newest first" in pages.

The token rules live in ``newsmon.textnorm``; changing them needs a new migration that
rebuilds the index (``storage.fts.rebuild_search_index``). Migration ``0007``
replaces the PostgreSQL function (single characters only where a run ends), built by
:func:`pg_tokens_function` here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

from alembic import op

from newsmon.textnorm import ALL_MARK, MAX_INDEXED_CHARS, MAX_WORD_CHARS, TITLE_MARK, UNINDEXED_MARK
from newsmon.textnorm import PG_SEPARATOR_RANGES as SEPARATORS

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_insert(row: str) -> str:
    return (f"INSERT INTO article_search(rowid, tokens) VALUES ({row}.id, "
            f"newsmon_search_tokens({row}.title_norm, {row}.body_norm));")


def _sqlite_delete(row: str) -> str:
    return (f"INSERT INTO article_search(article_search, rowid, tokens) VALUES ('delete', "
            f"{row}.id, newsmon_search_tokens({row}.title_norm, {row}.body_norm));")


SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE article_search USING fts5(tokens, content='', detail=none, "
    "columnsize=0, tokenize='ascii')",
    "INSERT INTO article_search(rowid, tokens) "
    "SELECT id, newsmon_search_tokens(title_norm, body_norm) FROM articles",
    # Candidates are ordered by publish time through this covering index: reaching
    # published_at in the table row means reading past the article's text.
    "CREATE INDEX article_search_when ON articles (id, published_at, source_id)",
    f"""CREATE TRIGGER article_search_insert AFTER INSERT ON articles BEGIN
        {_sqlite_insert('NEW')}
    END""",
    f"""CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN
        {_sqlite_delete('OLD')}
    END""",
    f"""CREATE TRIGGER article_search_update AFTER UPDATE OF title_norm, body_norm ON articles
        WHEN OLD.title_norm IS NOT NEW.title_norm OR OLD.body_norm IS NOT NEW.body_norm
    BEGIN
        {_sqlite_delete('OLD')}
        {_sqlite_insert('NEW')}
    END""",
]

SQLITE_DOWNGRADE = [
    "DROP INDEX article_search_when",
    "DROP TRIGGER article_search_update",
    "DROP TRIGGER article_search_delete",
    "DROP TRIGGER article_search_insert",
    "DROP TABLE article_search",
]

def _pg_char(char: str) -> str:
    """A private-use mark as a PostgreSQL Unicode literal."""
    return f"U&'\\{ord(char):04X}'"


def _pg_field_tokens(field: str, every_character: bool) -> str:
    """Tokens of one field as a text[]: words, then bigrams, then single characters.

    ``s`` is the field with separators turned into spaces, ``g`` that with the word
    characters also blanked (gram characters only). ``(.)`` -> ``\\1 \\1`` writes
    each character twice, so splitting on spaces yields every bigram inside a run
    (plus the run's end characters, which are unigrams anyway). Without
    ``every_character`` (migration 0007, PostgreSQL's later rule) only characters that
    follow another gram character are written twice: splitting yields every bigram and
    the run's last character, and no other single character.
    """
    words = (r"regexp_replace(regexp_replace(s, '[^0-9a-z]+', ' ', 'g'), "
             rf"'([0-9a-z]{{{MAX_WORD_CHARS}}})[0-9a-z]+', '\1', 'g')")
    if every_character:
        tokens = f"""array_cat(
                    string_to_array({words} || ' ' || regexp_replace(g, '(.)', '\\1 \\1', 'g'),
                                    ' '),
                    string_to_array(g, NULL))"""
    else:
        tokens = (f"string_to_array({words} || ' ' "
                  f"|| regexp_replace(g, '(?<=[^ ])([^ ])', '\\1 \\1', 'g'), ' ')")
    return f"""(SELECT {tokens}
                FROM (SELECT s, regexp_replace(s, '[0-9a-z]', ' ', 'g') AS g
                      FROM (SELECT regexp_replace({field}, '[{SEPARATORS}]', ' ', 'g') AS s)
                           AS separated) AS split)"""


def pg_tokens_function(every_character: bool) -> str:
    """``CREATE OR REPLACE`` the SQL function the GIN index is built over."""
    title, body = (_pg_field_tokens(field, every_character) for field in ("title", "body"))
    return f"""CREATE OR REPLACE FUNCTION newsmon_search_tokens(title text, body text)
        RETURNS tsvector
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 20000 AS $$
        SELECT CASE WHEN char_length(title) + char_length(body) > {MAX_INDEXED_CHARS}
            THEN array_to_tsvector(ARRAY[{_pg_char(ALL_MARK)}, {_pg_char(UNINDEXED_MARK)}])
            ELSE array_to_tsvector(array_remove(array_remove(
                ARRAY[{_pg_char(ALL_MARK)}] || {body}
                || t.tokens || ARRAY(SELECT {_pg_char(TITLE_MARK)} || x FROM unnest(t.tokens) AS x
                                     WHERE x NOT IN ('', ' ')),
                ''), ' '))
            END
        FROM (SELECT {title} AS tokens) AS t
    $$"""


PG_UPGRADE = [
    pg_tokens_function(every_character=True),
    "CREATE INDEX article_search_tokens ON articles "
    "USING gin (newsmon_search_tokens(title_norm, body_norm))",
    "CREATE INDEX article_search_order ON articles (published_at, id)",
]

PG_DOWNGRADE = [
    "DROP INDEX article_search_order",
    "DROP INDEX article_search_tokens",
    "DROP FUNCTION newsmon_search_tokens(text, text)",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        try:
            bind.exec_driver_sql("SELECT newsmon_search_tokens('', '')")
        except Exception as exc:
            raise RuntimeError(
                "the SQL function newsmon_search_tokens is missing on this connection; "
                "run migrations through newsmon (`newsmon db upgrade`), whose engine "
                "registers it") from exc
        statements = SQLITE_UPGRADE
    else:
        statements = PG_UPGRADE
    for statement in statements:
        bind.exec_driver_sql(statement)  # raw: the SQL is full of colons and backslashes


def downgrade() -> None:
    bind = op.get_bind()
    for statement in SQLITE_DOWNGRADE if bind.dialect.name == "sqlite" else PG_DOWNGRADE:
        bind.exec_driver_sql(statement)
