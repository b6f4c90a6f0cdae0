"""Topics: list, add, edit, remove, and try a query on the archive before saving it.

``newsmon topics``, the web's topics page, the HTTP API and the MCP server call these.
Adding or editing a topic matches it against the stored articles at once (so an edit
never silently does nothing); trying a query runs the same matcher a topic uses and
saves nothing, so what the user sees is what the topic would match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from newsmon.app.matching import MatchRunStats, article_text, match_topic_against_archive
from newsmon.app.reading import ReadingError, parse_search_query, parse_when, topic_aliases
from newsmon.matching import Matcher, TopicSpec
from newsmon.query import Plan
from newsmon.storage import topics as stored
from newsmon.storage.articles import iter_article_batches
from newsmon.storage.engine import Database

TRIAL_TOPIC_ID = 0
BROAD_MIN_ARTICLES = 20
BROAD_SHARE = 0.3
MAX_SAMPLE = 1000


class TopicNotFound(ReadingError):
    """No topic has that name."""


class TopicExists(ReadingError):
    """A topic of that name exists already."""


class BadTopicName(ReadingError):
    """A name that cannot be stored or typed back as ``topic:NAME``."""


@dataclass(frozen=True, slots=True)
class TopicSummary:
    name: str
    query: str
    matches: int
    flagged: int  # matches flagged new (for the next digest)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TopicChange:
    """What adding or editing a topic did, and what the user should know about it."""

    topic: TopicSummary
    stats: MatchRunStats
    warnings: list[str]


def list_topics(database: Database) -> list[TopicSummary]:
    """Every topic with its match counts, by name."""
    with database.session() as session:
        counts = stored.topic_match_counts(session)
        return [TopicSummary(t.name, t.query, *counts.get(t.id, (0, 0)), t.created_at,
                             t.updated_at) for t in stored.list_topics(session)]


def get_topic(database: Database, name: str) -> TopicSummary:
    for topic in list_topics(database):
        if topic.name == name:
            return topic
    raise TopicNotFound(f"no topic named {name!r}")


def check_name(name: str) -> None:
    try:
        stored.check_topic_name(name)
    except stored.TopicError as exc:
        raise BadTopicName(str(exc)) from None


def short_term_warnings(node: Plan) -> list[str]:
    """Terms that will match far more than the user means (one Chinese character,
    one or two Latin letters)."""
    warnings = []
    for term in sorted(node.positive, key=lambda t: t.norm):
        too_short = len(term.norm) < 2 if not term.latin else len(term.norm) < 3
        if too_short and not term.phrase:
            warnings.append(f"term {term.text!r} is so short that it will match most "
                            "articles; use a longer term or an \"exact phrase\"")
    return warnings


def broad_match_warning(matched: int, total: int) -> list[str]:
    """Warn when a query would flag a large share of the archive (a digest nobody
    reads): 30 % or more of at least 20 articles, so a small archive never warns."""
    if total >= BROAD_MIN_ARTICLES and matched >= BROAD_SHARE * total:
        return [f"the query matches {matched} of {total} stored articles; "
                "a narrower query will make digests more useful"]
    return []


def parse_topic_query(database: Database, name: str | None, query: str) -> Plan:
    """The query's tree (other topics usable as aliases); :class:`QueryError` if
    malformed — before anything is stored."""
    with database.session() as session:
        return parse_search_query(session, query, excluding=name, name=name)


def add_topic(database: Database, name: str, query: str, backfill: timedelta | None,
              now: datetime | None = None) -> TopicChange:
    """Track a new topic and match it against the stored articles; those published
    within ``backfill`` are flagged for the next digest."""
    check_name(name)
    node = parse_topic_query(database, name, query)
    with database.session() as session:
        if stored.get_topic(session, name) is not None:
            raise TopicExists(f"topic {name!r} already exists (use `topics edit` to change it)")
    stats = _save_and_match(database, name, query, stored.add_topic, backfill, now)
    warnings = [*short_term_warnings(node), *broad_match_warning(stats.new_matches,
                                                                 stats.articles)]
    return TopicChange(get_topic(database, name), stats, warnings)


def edit_topic(database: Database, name: str, query: str, backfill: timedelta | None,
               now: datetime | None = None) -> TopicChange:
    """Change a topic's query; matches already recorded are kept and never re-flagged."""
    node = parse_topic_query(database, name, query)
    with database.session() as session:
        if stored.get_topic(session, name) is None:
            raise TopicNotFound(f"no topic named {name!r}")
    stats = _save_and_match(database, name, query, stored.edit_topic, backfill, now)
    return TopicChange(get_topic(database, name), stats, short_term_warnings(node))


def _save_and_match(database: Database, name: str, query: str, save: Any,
                    backfill: timedelta | None, now: datetime | None) -> MatchRunStats:
    moment = now or datetime.now(UTC)
    try:
        with database.session() as session, session.begin():
            save(session, name, query, moment)
    except stored.TopicError as exc:
        raise ReadingError(str(exc)) from None
    return match_topic_against_archive(database, name, moment, backfill)


def remove_topic(database: Database, name: str) -> None:
    """Stop tracking a topic; its matches (and their delivery records) are deleted."""
    try:
        with database.session() as session, session.begin():
            stored.remove_topic(session, name)
    except stored.TopicError as exc:
        raise TopicNotFound(str(exc)) from None


# --------------------------------------------------------------------------------------
# Trying a query (the backtest)


@dataclass(frozen=True, slots=True)
class SampleHit:
    article_id: int
    title: str
    published: datetime | None
    snippet: str
    variants: tuple[str, ...]


@dataclass
class TrialResult:
    query: str
    scanned: int = 0
    matched: int = 0
    sample: list[SampleHit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query, "scanned": self.scanned, "matched": self.matched,
            "sample": [
                {"id": s.article_id, "title": s.title,
                 "published_at": s.published.isoformat() if s.published else None,
                 "snippet": s.snippet, "matched": list(s.variants)}
                for s in self.sample
            ],
            "warnings": list(self.warnings),
        }


def backtest(database: Database, query: str, *, since: str | None = None,
             sample: int = 10) -> TrialResult:
    """How many stored articles (published since ``since``, a duration or a date)
    ``query`` would match as a topic, the newest ``sample`` of them, and warnings."""
    if not 0 <= sample <= MAX_SAMPLE:
        raise ReadingError(f"sample {sample} is outside 0..{MAX_SAMPLE}")
    with database.session() as session:
        node = parse_search_query(session, query)
        aliases = topic_aliases(session)
    result = try_query(database, query, aliases, since=parse_when(since), sample=sample)
    result.warnings = [*short_term_warnings(node),
                       *broad_match_warning(result.matched, result.scanned)]
    return result


def try_query(database: Database, query: str, aliases: Mapping[str, str], *,
              since: datetime | None = None, sample: int = 10) -> TrialResult:
    """Count the stored articles ``query`` matches; keep the newest ``sample`` of them."""
    matcher = Matcher([TopicSpec(TRIAL_TOPIC_ID, "(trial)", query)], aliases=aliases)
    result = TrialResult(query)
    found: list[tuple[datetime | None, SampleHit]] = []
    with database.session() as session:
        for batch in iter_article_batches(session, published_since=since):
            for article in batch:
                result.scanned += 1
                matches = matcher.match(article_text(article))
                if not matches:
                    continue
                result.matched += 1
                hit = matches[0]
                variants = tuple(dict.fromkeys(h.variant for h in hit.hits))
                found.append((article.published_at, SampleHit(
                    article.id, article.title, article.published_at, hit.snippet.text,
                    variants)))
    found.sort(key=lambda pair: pair[0].timestamp() if pair[0] else float("-inf"),
               reverse=True)
    result.sample = [hit for _, hit in found[:sample]]
    return result
