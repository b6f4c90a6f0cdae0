"""The full-text index itself: what it stores, that it only narrows, that every write
keeps it in step, and that the PostgreSQL function tokenizes exactly like Python."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update

from newsmon.query import AllOf, AnyOf, Both, Everything, Term, find_term, parse_query
from newsmon.storage.engine import Database
from newsmon.storage.fts import (
    rebuild_search_index,
    render_tsquery,
    settle_search_index,
    settle_search_index_quietly,
)
from newsmon.storage.models import Article, Source
from newsmon.storage.search import iter_search
from newsmon.textnorm import (
    ALL_MARK,
    MAX_INDEXED_CHARS,
    TITLE_MARK,
    UNINDEXED_MARK,
    document_tokens,
    normalize,
    term_tokens,
)
from tests.conftest import PG_BASE_URL, _pg_admin_execute
from tests.search_support import EDGE_CASES, T0, Sample, brute_force, store

# --------------------------------------------------------------------------------------
# What is stored, and what a query asks for (pure)


def tokens_of(title: str, body: str, *, every_character: bool = True) -> set[str]:
    return set(document_tokens(title, body, every_character=every_character).split())


def test_document_tokens_are_bigrams_characters_and_words() -> None:
    assert tokens_of("", normalize("青島市，5G網絡 foo_bar")) == {
        ALL_MARK, "青", "岛", "市", "青岛", "岛市", "网", "络", "网络", "5g", "foo", "bar"}
    assert tokens_of("港口", "") == {ALL_MARK, "港", "口", "港口",
                                   TITLE_MARK + "港", TITLE_MARK + "口", TITLE_MARK + "港口"}
    assert tokens_of("", "x" * 100) == {ALL_MARK, "x" * 64}  # long words are cut
    assert tokens_of("", "的" * (MAX_INDEXED_CHARS + 1)) == {ALL_MARK, UNINDEXED_MARK}


def test_postgresql_stores_single_characters_only_where_a_run_ends() -> None:
    def pg(title: str, body: str) -> set[str]:
        return tokens_of(title, body, every_character=False)

    assert pg("", normalize("青島市，5G網絡 东 foo_bar")) == {
        ALL_MARK, "市", "青岛", "岛市", "络", "网络", "东", "5g", "foo", "bar"}
    assert pg("港口", "") == {ALL_MARK, "口", "港口", TITLE_MARK + "口", TITLE_MARK + "港口"}


@pytest.mark.parametrize(("query", "tsquery"), [
    ("岛", f"('岛':*) | '{UNINDEXED_MARK}'"),  # starts a bigram or ends its run
    ("title:岛", f"('{TITLE_MARK}岛':*) | '{UNINDEXED_MARK}'"),
    ("a", f"('a') | '{UNINDEXED_MARK}'"),  # a Latin word is stored whole: no prefix
    ("a岛 青岛", f"('a' & '岛':* & '青岛') | '{UNINDEXED_MARK}'"),
    ("it's", f"('it' & 's') | '{UNINDEXED_MARK}'"),
])
def test_a_one_character_gram_term_is_asked_as_a_prefix_on_postgresql(
        query: str, tsquery: str) -> None:
    assert render_tsquery(parse_query(query).narrowing) == tsquery


@pytest.mark.parametrize(("query", "condition"), [
    ("青岛", AllOf(("青岛",))),
    ("青島市", AllOf(("青岛", "岛市"))),
    ("岛", AllOf(("岛",))),
    ("ai-driven", AllOf(("ai", "driven"))),
    ('"上合 峰会"', AllOf(("上合", "峰会"))),
    ("青岛 港口", AllOf(("青岛", "港口"))),
    ("青岛 OR 烟台", AnyOf((AllOf(("青岛",)), AllOf(("烟台",))))),
    ("青岛 -经济", AllOf(("青岛",))),  # exclusions cannot narrow
    ("title:港口", AllOf((TITLE_MARK + "港口",))),
    ("source:新华社", Everything()),
    ("...", Everything()),
    ("(青岛 OR 烟台) 港口", Both((AllOf(("港口",)), AnyOf((AllOf(("青岛",)),
                                                      AllOf(("烟台",))))))),
])
def test_queries_become_index_conditions(query: str, condition: object) -> None:
    assert parse_query(query).narrowing == condition


texts = st.text(st.sampled_from(list("青岛市港口的了一是ＡaBb5G_- ，。…!?Zzüé東京タワー서울🔥\n")),
                max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=texts, start=st.integers(0, 40), length=st.integers(1, 8))
def test_a_term_cut_from_a_text_asks_only_for_tokens_the_text_has(
        text: str, start: int, length: int) -> None:
    """The index never loses a match: a term found in the text (by the reference rule)
    only requires tokens the text's document holds, in the body or the title."""
    key = normalize(text)
    term = Term.of(key[start:start + length])
    if not term.norm.strip() or find_term(term, key) < 0:
        return
    stored = tokens_of("", key)
    assert set(term_tokens(term.norm)) <= stored
    assert {TITLE_MARK + t for t in term_tokens(term.norm)} <= tokens_of(key, "")
    # PostgreSQL: a 1-character gram token is asked as a prefix ('X':*)
    for pg_stored, mark in ((tokens_of("", key, every_character=False), ""),
                            (tokens_of(key, "", every_character=False), TITLE_MARK)):
        for token in term_tokens(term.norm):
            asked = mark + token
            if len(token) == 1 and not token.isascii():
                assert any(t.startswith(asked) for t in pg_stored), (asked, pg_stored)
            else:
                assert asked in pg_stored, (asked, pg_stored)


# --------------------------------------------------------------------------------------
# The index on both databases


def ids(database: Database, query: str) -> list[int]:
    with database.session() as session:
        return [a.id for a in iter_search(session, parse_query(query))]


def test_every_write_keeps_the_index_in_step(database: Database) -> None:
    first = Sample("s1", "甲乙丙新闻", "正文甲乙丙丁", "x", T0)
    second = Sample("s2", "另一篇", "青岛港口", "y", T0 - timedelta(hours=1))
    one, two = store(database, [first, second])
    assert ids(database, "甲乙") == [one] and ids(database, "港口") == [two]

    # an update through the storage path (content changed) replaces the old tokens
    store(database, [replace(first, body="改写后的正文戊己")])
    assert ids(database, "丁") == [] and ids(database, "戊己") == [one]
    # a new publish time moves the article in the order
    with database.session() as session, session.begin():
        session.execute(update(Article).where(Article.id == one)
                        .values(published_at=T0 - timedelta(days=1)))
    assert ids(database, "正文 OR 港口") == [two, one]
    # deleting (here by cascade from the source) removes it from the index
    with database.session() as session, session.begin():
        session.execute(delete(Source).where(Source.name == "s1"))
    assert ids(database, "戊己 OR 港口") == [two]
    assert_index_matches_the_table(database)


def assert_index_matches_the_table(database: Database) -> None:
    """Every article is in the index, and nothing else is."""
    with database.session() as session:
        expected = sorted(session.scalars(select(Article.id)))
        if session.get_bind().dialect.name == "sqlite":
            stored = list(session.scalars(text(
                "SELECT rowid FROM article_search WHERE article_search MATCH :everything "
                "ORDER BY rowid"), {"everything": f'"{ALL_MARK}"'}))
            session.execute(text(
                "INSERT INTO article_search(article_search) VALUES ('integrity-check')"))
        else:
            stored = list(session.scalars(text(
                "SELECT id FROM articles WHERE newsmon_search_tokens(title_norm, body_norm) "
                "@@ CAST(:q AS tsquery) ORDER BY id"), {"q": f"'{ALL_MARK}'"}))
    assert stored == expected


def test_reindex_rebuilds_the_same_index(database: Database) -> None:
    store(database, [*EDGE_CASES])
    before = {q: ids(database, q) for q in ("青岛", "ai", "独一无二的长文标记", "...")}
    with database.session() as session, session.begin():
        assert rebuild_search_index(session) == len(EDGE_CASES)
    assert {q: ids(database, q) for q in before} == before
    assert_index_matches_the_table(database)


def test_settling_folds_the_pending_entries_in_and_changes_no_result(database: Database
                                                                     ) -> None:
    """PostgreSQL queues new articles' tokens in the GIN index's pending list; settling
    moves them into the index proper (nothing to move the second time, or on SQLite)."""
    store(database, [*EDGE_CASES])
    before = {q: ids(database, q) for q in ("青岛", "ai", "独一无二的长文标记", "岛")}
    postgresql = database.engine.dialect.name == "postgresql"
    with database.session() as session, session.begin():
        assert (settle_search_index(session) > 0) is postgresql
    with database.session() as session, session.begin():
        assert settle_search_index(session) == 0
    assert {q: ids(database, q) for q in before} == before
    assert_index_matches_the_table(database)


@pytest.mark.postgres
def test_a_settle_that_fails_is_logged_and_raises_nothing(pg_url: str,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    database = Database(pg_url)
    store(database, [*EDGE_CASES])
    with database.engine.begin() as connection:  # what it would fold into is gone
        connection.execute(text("DROP INDEX article_search_tokens"))
    assert settle_search_index_quietly(database) == 0
    assert "could not fold pending entries into the search index" in caplog.text
    assert "article_search_tokens" in caplog.text
    database.dispose()


def test_sqlite_triggers_survive_every_later_migration(sqlite_url: str) -> None:
    """A later migration that recreates `articles` (SQLite batch mode) drops its
    triggers; then writes would silently stop reaching the index."""
    database = Database(sqlite_url)
    with database.session() as session:
        triggers = set(session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'")))
    assert {"article_search_insert", "article_search_update",
            "article_search_delete"} <= triggers
    database.dispose()


def test_an_article_stored_before_the_index_existed_is_indexed_by_the_migration(
        db_url: str) -> None:
    from newsmon.storage.migrate import downgrade, upgrade_to_head

    database = Database(db_url)
    database.ensure_schema()
    downgrade(database.engine, "0002")
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO sources (id, name, created_at) VALUES (1, 's', '2024-05-01')"))
        connection.execute(text(
            "INSERT INTO articles (id, source_id, url, canonical_url, title, body, title_norm, "
            "body_norm, tags, script, encoding_used, content_hash, first_seen, last_seen) "
            "VALUES (1, 1, 'u', 'u', 't', '青島', 't', '青岛', '[]', 'traditional', 'utf-8', "
            "'h', '2024-05-01', '2024-05-01')"))
    assert upgrade_to_head(database.engine)
    assert ids(database, "青島") == [1]
    database.dispose()


@pytest.mark.postgres
def test_migration_0007_rebuilds_the_postgresql_index_with_run_ends_only(pg_url: str) -> None:
    """The function changes and the GIN index is rebuilt with it, both ways: a stale
    index would still answer the exact lexeme of a character that starts a run."""
    from newsmon.storage.migrate import downgrade, upgrade_to_head

    database = Database(pg_url)
    database.ensure_schema()
    # Stored at head (the models write today's columns), then taken back to 0006.
    [one] = store(database, [Sample("s", "标题", "青岛市港口", None, T0)])
    downgrade(database.engine, "0006")

    def through_the_index(tsquery: str) -> list[int]:
        with database.session() as session:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            return list(session.scalars(text(
                "SELECT id FROM articles WHERE newsmon_search_tokens(title_norm, body_norm) "
                "@@ CAST(:q AS tsquery)"), {"q": tsquery}))

    assert through_the_index("'青'") == [one]  # 0003: every character
    assert upgrade_to_head(database.engine)
    assert through_the_index("'青'") == [] and through_the_index("'青':*") == [one]
    assert through_the_index("'口'") == [one]  # the last character of its run
    assert ids(database, "青") == [one]
    downgrade(database.engine, "0006")
    assert through_the_index("'青'") == [one]
    database.dispose()


def test_results_match_brute_force_after_updates(database: Database) -> None:
    samples = [Sample("s", f"标题{i}", f"正文{'青岛' if i % 2 else '烟台'}{i}", None,
                      T0 + timedelta(minutes=i), slug=str(i)) for i in range(12)]
    store(database, samples)
    store(database, [replace(s, body=s.body + "港口", published_at=T0 - timedelta(minutes=i))
                     for i, s in enumerate(samples) if i % 3 == 0])
    for query in ("青岛", "港口", "青岛 港口", "烟台 -港口"):
        with database.session() as session:
            node = parse_query(query)
            assert ids(database, query) == brute_force(session, node), query


# --------------------------------------------------------------------------------------
# PostgreSQL's tokenizer function against Python's

# Every class edge of newsmon.textnorm.SEPARATOR_RANGES, plus ordinary text.
EDGES = ("\x01\x2f\x30\x39\x3a\x40\x41\x5a\x5b\x60\x61\x7a\x7b\x7f\x80\xbf\xc0\xd6\xd7\xd8"
         "\xf6\xf7\xf8\u02af\u02b0\u036f\u0370\u1fff\u2000\u2bff\u2c00\u2dff\u2e00\u2e7f"
         "\u2e80\u2fff\u3000\u3004\u3005\u3007\u3008\u3020\u3021\u302f\u3030\u3031\u303c"
         "\u303d\u303f\u3040\u30fa\u30fb\u30fc\ufe0f\ufe10\ufe1f\ufe20\ufe2f\ufe30\ufe6f"
         "\ufe70\ufeff\uff00\uffef\ufff0\ufffd\uffff\ue000\uf8ff\uf900\U0001f525\U00020000"
         " \t\n青岛市的港口abcxyz0123")


@pytest.mark.postgres
@settings(max_examples=300, deadline=None)
@given(title=st.text(st.sampled_from(EDGES), max_size=12),
       body=st.text(st.sampled_from(EDGES), max_size=60))
def test_postgresql_tokenizes_exactly_like_python(pg_database: Database, title: str, body: str
                                                  ) -> None:
    with pg_database.session() as session:
        stored = set(session.scalars(text(
            "SELECT unnest(tsvector_to_array(newsmon_search_tokens(:title, :body)))"),
            {"title": title, "body": body}))
    assert stored == tokens_of(title, body, every_character=False)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[Database]:
    """One migrated PostgreSQL schema for the (read-only) tokenizer comparison."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        _pg_admin_execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {PG_BASE_URL} is required (CI starts it): {exc}")
    database = Database(f"{PG_BASE_URL}?options=-csearch_path%3D{schema}")
    database.ensure_schema()
    yield database
    database.dispose()
    _pg_admin_execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_the_order_is_publish_time_then_id_with_undated_last(db_url: str) -> None:
    moment = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
    times = [None, datetime(1965, 3, 1, tzinfo=UTC), moment.replace(microsecond=999_999),
             moment, moment, None, datetime(2300, 1, 1, tzinfo=UTC)]
    database = Database(db_url)
    stored = store(database, [Sample("s", "t", f"正文{i}", None, when)
                              for i, when in enumerate(times)])
    assert ids(database, "正文") == [stored[i] for i in (6, 2, 4, 3, 1, 5, 0)]
    database.dispose()
