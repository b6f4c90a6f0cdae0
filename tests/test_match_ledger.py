"""The "new" ledger: a (topic, article) pair is flagged at most once, old news is
backfilled without alerting, and nothing re-flags — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from newsmon.app.matching import is_flagged_new, match_pending, match_topic_against_archive
from newsmon.crawler.items import FetchedPage
from newsmon.crawler.normalise import normalize_article
from newsmon.storage.articles import ensure_source, upsert_article
from newsmon.storage.engine import Database
from newsmon.storage.matches import mark_delivered, undelivered_matches
from newsmon.storage.models import Match
from newsmon.storage.topics import add_topic, edit_topic
from newsmon.values import ExtractedArticle

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=48)


def store(database: Database, url: str, title: str, body: str, published: datetime,
          fetched: datetime = NOW) -> int:
    article = ExtractedArticle(url=url, canonical_url=url, title=title, body=body,
                               published_at=published, source="大众网")
    page = FetchedPage(source="dzwww", url=url, body=b"", content_type=None,
                       fetched_at=fetched, timezone="Asia/Shanghai")
    with database.session() as session, session.begin():
        source_id = ensure_source(session, "dzwww")
        return upsert_article(session, source_id, normalize_article(article, page)).article_id


def add(database: Database, name: str, query: str, now: datetime = NOW) -> None:
    with database.session() as session, session.begin():
        add_topic(session, name, query, now)
    match_topic_against_archive(database, name, now, WINDOW)


def flagged_titles(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(p.title for p in undelivered_matches(session, "default"))


def match_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Match)) or 0


def deliver_all(database: Database) -> None:
    with database.session() as session, session.begin():
        pending = undelivered_matches(session, "default")
        mark_delivered(session, [p.match_id for p in pending], "default", NOW)


def test_backfilled_old_articles_are_stored_but_not_flagged(database: Database) -> None:
    store(database, "http://x/old", "青島舊聞", "青島三年前的新聞", NOW - timedelta(days=3))
    store(database, "http://x/new", "青岛新闻", "青岛今天的新闻", NOW - timedelta(hours=3))
    add(database, "qd", "青岛")
    assert match_count(database) == 2
    assert flagged_titles(database) == ["青岛新闻"]


def test_a_pair_is_never_flagged_twice(database: Database) -> None:
    add(database, "qd", "青島")
    store(database, "http://x/1", "青島港", "青岛港吞吐量创新高", NOW - timedelta(hours=1))
    assert match_pending(database, NOW, WINDOW).flagged == 1
    deliver_all(database)

    # A re-crawl of the same page, an update of its text, a restart (a new matcher),
    # and an edit of the topic all leave the delivered pair alone.
    store(database, "http://x/1", "青島港", "青岛港吞吐量创新高", NOW - timedelta(hours=1),
          fetched=NOW + timedelta(hours=1))
    store(database, "http://x/1", "青島港", "青岛港吞吐量再创新高（更新）",
          NOW - timedelta(hours=1), fetched=NOW + timedelta(hours=2))
    later = NOW + timedelta(hours=3)
    assert match_pending(database, later, WINDOW).new_matches == 0
    with database.session() as session, session.begin():
        edit_topic(session, "qd", "青島 OR 港口", later)
    assert match_topic_against_archive(database, "qd", later, WINDOW).new_matches == 0
    assert flagged_titles(database) == []
    assert match_count(database) == 1


def test_a_topic_edit_takes_effect_for_articles_it_now_matches(database: Database) -> None:
    store(database, "http://x/2", "烟台港", "烟台港口今天开放", NOW - timedelta(hours=1))
    add(database, "qd", "青島")
    assert match_count(database) == 0
    with database.session() as session, session.begin():
        edit_topic(session, "qd", "青島 OR 烟台", NOW)
    assert match_topic_against_archive(database, "qd", NOW, WINDOW).new_matches == 1
    assert flagged_titles(database) == ["烟台港"]


@pytest.mark.parametrize(("published", "first_seen", "flagged"), [
    (NOW - timedelta(hours=47), NOW, True),
    (NOW - timedelta(hours=49), NOW, False),
    (None, NOW - timedelta(hours=1), True),
    (None, NOW - timedelta(days=5), False),
])
def test_the_backfill_rule(published: datetime | None, first_seen: datetime,
                           flagged: bool) -> None:
    assert is_flagged_new(published, first_seen, NOW, WINDOW) is flagged
    assert is_flagged_new(published, first_seen, NOW, None) is True
