"""Storage against real databases: a SQLite file and the local PostgreSQL server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from newsmon.storage.articles import (
    UpsertStatus,
    ensure_source,
    known_canonical_urls,
    upsert_article,
)
from newsmon.storage.engine import Database
from newsmon.storage.fts import include_in_schema_compare
from newsmon.storage.matches import mark_delivered, record_matches, undelivered_matches
from newsmon.storage.migrate import current_revision, head_revision
from newsmon.storage.models import Article, Base
from newsmon.storage.topics import TopicError, add_topic, list_topics, remove_topic
from newsmon.values import ExtractedArticle, NewMatch, NormalizedArticle

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def make_item(url: str = "http://example.cn/a/1.html", body: str = "青島新聞正文",
              fetched_at: datetime = T0) -> NormalizedArticle:
    article = ExtractedArticle(
        url=url, canonical_url=url, title="標題", body=body,
        published_at=datetime(2024, 5, 1, 9, 30, tzinfo=SHANGHAI), source="大衆網",
        editor="劉亞會", tags=("青島",), script="traditional", encoding_used="utf-8")
    return NormalizedArticle(article=article, title_norm="标题", body_norm=body,
                             content_hash=str(hash(body)), fetched_at=fetched_at)


def test_migrations_create_the_models_schema(database: Database) -> None:
    assert current_revision(database.engine) == head_revision()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": include_in_schema_compare})  # search index: raw DDL
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    with db.session() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_upsert_is_idempotent_and_reports_changes(database: Database) -> None:
    with database.session() as session, session.begin():
        source_id = ensure_source(session, "dzwww")
        assert ensure_source(session, "dzwww") == source_id
        first = upsert_article(session, source_id, make_item())
    assert first.status is UpsertStatus.NEW
    later = T0 + timedelta(hours=5)
    with database.session() as session, session.begin():
        again = upsert_article(session, source_id, make_item(fetched_at=later))
        changed = upsert_article(session, source_id,
                                 make_item(body="青島新聞正文（更新）", fetched_at=later))
    assert again.status is UpsertStatus.UNCHANGED
    assert changed.status is UpsertStatus.UPDATED
    assert first.article_id == again.article_id == changed.article_id
    with database.session() as session:
        stored = session.get(Article, first.article_id)
        assert stored is not None
        assert stored.first_seen == T0  # an update never makes an article new again
        assert stored.changed_at == later
        assert stored.body == "青島新聞正文（更新）"
        assert stored.published_at == datetime(2024, 5, 1, 1, 30, tzinfo=UTC)
        assert stored.tags == ["青島"]
        assert known_canonical_urls(session, ["http://example.cn/a/1.html", "http://x/"]) == {
            "http://example.cn/a/1.html"}


def test_naive_datetimes_are_rejected(database: Database) -> None:
    item = make_item()
    naive = replace(item, fetched_at=datetime(2024, 5, 1, 8, 0))
    with database.session() as session, pytest.raises(Exception, match="naive datetime"), \
            session.begin():
        upsert_article(session, ensure_source(session, "s"), naive)


def test_a_match_is_recorded_once_and_delivered_once(database: Database) -> None:
    with database.session() as session, session.begin():
        source_id = ensure_source(session, "dzwww")
        article_id = upsert_article(session, source_id, make_item()).article_id
        topic = add_topic(session, "青島", "青島", T0)
        new = NewMatch(topic.id, article_id, True, [{"variant": "青島"}], "…青島…")
        assert record_matches(session, [new], T0) == 1
        assert record_matches(session, [new], T0) == 0
    with database.session() as session, session.begin():
        pending = undelivered_matches(session, "default")
        assert [(p.topic, p.title, p.site) for p in pending] == [("青島", "標題", "dzwww")]
        mark_delivered(session, [pending[0].match_id], "default", T0)
        mark_delivered(session, [pending[0].match_id], "default", T0)
    with database.session() as session:
        assert undelivered_matches(session, "default") == []
        assert len(undelivered_matches(session, "other")) == 1


def test_topics_add_list_remove(database: Database) -> None:
    with database.session() as session, session.begin():
        add_topic(session, "qingdao", "青島 OR Qingdao", T0)
        with pytest.raises(TopicError, match="already exists"):
            add_topic(session, "qingdao", "x", T0)
    with database.session() as session, session.begin():
        assert [t.name for t in list_topics(session)] == ["qingdao"]
        remove_topic(session, "qingdao")
        with pytest.raises(TopicError, match="no topic named 'qingdao'"):
            remove_topic(session, "qingdao")


def test_every_migration_downgrades_and_upgrades_again(database: Database) -> None:
    from newsmon.storage.migrate import downgrade, upgrade_to_head

    downgrade(database.engine, "base")
    assert current_revision(database.engine) is None
    assert upgrade_to_head(database.engine)
    assert current_revision(database.engine) == head_revision()


def test_failed_articles_are_retried_by_themselves_for_a_few_runs(database: Database) -> None:
    from newsmon.storage.urls import (
        RETRY_FAILED_RUNS,
        StartPage,
        UrlState,
        failed_article_urls,
        record_url_outcome,
        save_start_page,
    )

    now = datetime(2024, 5, 1, tzinfo=UTC)
    with database.session() as session, session.begin():
        ours, theirs = ensure_source(session, "ours"), ensure_source(session, "theirs")
        for run in range(RETRY_FAILED_RUNS):  # fails every run: given up after the last
            record_url_outcome(session, "http://a/always", source_id=ours,
                               state=UrlState.FAILED, now=now + timedelta(days=run))
        record_url_outcome(session, "http://a/late", source_id=ours, state=UrlState.FAILED,
                           now=now + timedelta(days=2))
        record_url_outcome(session, "http://a/early", source_id=ours, state=UrlState.FAILED,
                           now=now)
        record_url_outcome(session, "http://a/gone", source_id=ours, state=UrlState.GONE,
                           now=now, status=404)
        record_url_outcome(session, "http://b/x", source_id=theirs, state=UrlState.FAILED,
                           now=now)
        save_start_page(session, StartPage("http://a/list", "list", None, None, None),
                        source_id=ours, status=200, now=now)
    with database.session() as session:
        assert failed_article_urls(session, ours) == ["http://a/early", "http://a/late"]
    # an answer that is no failure ends its retries
    with database.session() as session, session.begin():
        record_url_outcome(session, "http://a/early", source_id=ours,
                           state=UrlState.NOT_ARTICLE, now=now + timedelta(days=3), status=200)
    with database.session() as session:
        assert failed_article_urls(session, ours) == ["http://a/late"]


def test_only_the_source_that_stored_an_article_updates_it(database: Database) -> None:
    later = T0 + timedelta(hours=1)
    with database.session() as session, session.begin():
        owner = ensure_source(session, "a")
        other = ensure_source(session, "b")
        first = upsert_article(session, owner, make_item())
        refused = upsert_article(session, other, make_item(body="冒名正文", fetched_at=later))
        same = upsert_article(session, other, make_item(fetched_at=later))
    assert refused.status is same.status is UpsertStatus.FOREIGN
    assert refused.article_id == first.article_id
    with database.session() as session:
        stored = session.get(Article, first.article_id)
        assert stored is not None
        assert (stored.source_id, stored.body, stored.last_seen) == (owner, "青島新聞正文", T0)
        assert stored.changed_at is None and stored.matched_at is None
