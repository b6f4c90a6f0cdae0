"""Matching jobs: run the pure matching engine over stored articles and record matches.

The database holds the ledgers, so these jobs can run in any process, any number of
times: ``articles.matched_at`` says which articles still need matching, and the
unique (topic, article) constraint means a pair is flagged at most once — a
re-crawl, a restart or a topic edit never flags it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsmon.matching import ArticleText, Matcher, TopicMatch, TopicSpec
from newsmon.storage.articles import (
    MatchableArticle,
    iter_article_batches,
    mark_matched,
    pending_match_articles,
)
from newsmon.storage.engine import Database, Session
from newsmon.storage.fts import settle_search_index_quietly
from newsmon.storage.matches import record_matches
from newsmon.storage.topics import TopicRecord, get_topic, list_topics
from newsmon.values import NewMatch

BATCH = 500


@dataclass(frozen=True, slots=True)
class MatchRunStats:
    articles: int = 0
    new_matches: int = 0
    flagged: int = 0

    def __add__(self, other: MatchRunStats) -> MatchRunStats:
        return MatchRunStats(self.articles + other.articles,
                             self.new_matches + other.new_matches,
                             self.flagged + other.flagged)


def is_flagged_new(published_at: datetime | None, first_seen: datetime, now: datetime,
                   window: timedelta | None) -> bool:
    """Whether a match found ``now`` alerts, or is a backfilled old article.

    An article published longer than ``window`` ago (or first seen that long ago, if
    it has no publish time: ``published_at`` already holds the best date evidence,
    down to a feed's pubDate, the URL or HTTP Last-Modified, see
    ``articles.published_source``) is stored and searchable but not flagged: that keeps the
    first crawl of a source, a newly added topic, and old pages surfacing from
    flooding the digest. ``window=None`` flags everything.
    """
    if window is None:
        return True
    return now - (published_at or first_seen) <= window


def build_matcher(all_topics: Sequence[TopicRecord],
                  only: Iterable[TopicRecord] | None = None) -> Matcher:
    """A matcher for ``only`` (default: all topics); any topic name is usable as
    ``topic:NAME`` inside a query."""
    chosen = all_topics if only is None else list(only)
    return Matcher([TopicSpec(id=t.id, name=t.name, query=t.query) for t in chosen],
                   aliases={t.name: t.query for t in all_topics})


def article_text(article: MatchableArticle) -> ArticleText:
    """What the matcher reads of a stored article, with the keys storage keeps."""
    return ArticleText(id=article.id, title=article.title, body=article.body,
                       source=article.source or "", title_norm=article.title_norm,
                       body_norm=article.body_norm)


def _new_match(found: TopicMatch, article: MatchableArticle, now: datetime,
               window: timedelta | None, first_store_only: bool) -> NewMatch:
    # An article changed since it was first stored (a forum thread gaining replies, a
    # page whose counters move) was judged when first stored: a later edit that
    # makes it match a topic does not make it news again.
    fresh = not (first_store_only and article.changed_at is not None)
    return new_match(found, fresh and is_flagged_new(article.published_at, article.first_seen,
                                                     now, window))


def new_match(found: TopicMatch, is_new: bool) -> NewMatch:
    """The match ledger's record of what the matcher found (``is_new``: flag it)."""
    return NewMatch(found.topic_id, found.article_id, is_new,
                    [hit.as_dict() for hit in found.hits], found.snippet.text)


def record_batch(session: Session, matcher: Matcher, articles: Sequence[MatchableArticle],
                 now: datetime, window: timedelta | None,
                 first_store_only: bool = False) -> MatchRunStats:
    """Match ``articles`` and record the pairs not recorded before.

    ``first_store_only``: flag only articles not changed since they were first
    stored (the crawl's matching; a topic added later judges every article afresh).
    """
    found = [
        _new_match(match, article, now, window, first_store_only)
        for article in articles
        for match in matcher.match(article_text(article))
    ]
    inserted = record_matches(session, found, now)
    return MatchRunStats(len(articles), inserted, sum(1 for m in found if m.is_new))


def match_pending(database: Database, now: datetime, window: timedelta | None) -> MatchRunStats:
    """Match every not-yet-matched article against all topics, a batch per transaction;
    then settle the search index, as this is the last write of a crawl run."""
    with database.session() as session:
        matcher = build_matcher(list_topics(session))
    total = MatchRunStats()
    while True:
        with database.session() as session, session.begin():
            batch = pending_match_articles(session, BATCH)
            if not batch:
                break
            total += record_batch(session, matcher, batch, now, window, first_store_only=True)
            mark_matched(session, [a.id for a in batch], now)
    if total.articles:
        # On PostgreSQL marking an article matched writes a new row version, and so new
        # GIN entries too (matched_at is indexed: no HOT update). Fold them and the
        # crawl's own into the index, so searches need not read the pending list.
        settle_search_index_quietly(database)
    return total


def match_topic_against_archive(database: Database, topic_name: str, now: datetime,
                                window: timedelta | None) -> MatchRunStats:
    """After a topic is added or edited: match it against every stored article.

    Pairs already recorded stay as they were (never re-flagged); new pairs are
    flagged by the backfill rule, so an added topic does not alert on old news.
    """
    with database.session() as session:
        topic = get_topic(session, topic_name)
        if topic is None:
            raise LookupError(f"no topic named {topic_name!r}")
        matcher = build_matcher(list_topics(session), only=[topic])
    total = MatchRunStats()
    with database.session() as reader:
        for batch in iter_article_batches(reader, BATCH):
            with database.session() as writer, writer.begin():
                total += record_batch(writer, matcher, batch, now, window)
    return total
