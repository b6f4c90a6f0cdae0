"""SQLAlchemy 2.x typed models: the schema newsmon keeps.

The database enforces the invariants the pipeline relies on, so several crawler
processes can write to one database safely:

* one article per canonical URL (``uq_articles_canonical_url``);
* one match per (topic, article) — a pair is flagged at most once;
* one delivery per (match, subscription) — a digest never repeats a match.

All timestamps are stored in UTC and come back timezone-aware (see :class:`UTCDateTime`).
The schema changes only through Alembic migrations (``alembic/versions``); a test
checks that these models and the migrations agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Crawled values are cut to these bounds before they are stored (newsmon.sanitise):
# the columns take their lengths from the same constants, so the two always agree.
from newsmon.sanitise import (
    AUTHOR_MAX,
    EDITOR_MAX,
    ENCODING_MAX,
    ETAG_MAX,
    LAST_MODIFIED_MAX,
    PUBLISHED_SOURCE_MAX,
    SOURCE_MAX,
)

# Stable constraint names so migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zone type and would hand back naive values; storing naive
    UTC and re-attaching UTC on the way out keeps comparisons correct everywhere.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column; attach a zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Source(Base):
    """A monitored site, as named in the sources config."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """One article, keyed by its canonical URL.

    ``source`` is the outlet the page names (来源/來源), which may differ from the
    site it was crawled from (``source_id``). ``title_norm``/``body_norm`` hold the
    script-normalised text used for matching and search. ``matched_at`` is the
    matching ledger: NULL means the article still has to be matched against topics.
    """

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    title_norm: Mapped[str] = mapped_column(Text)
    body_norm: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(SOURCE_MAX))
    author: Mapped[str | None] = mapped_column(String(AUTHOR_MAX))
    editor: Mapped[str | None] = mapped_column(String(EDITOR_MAX))
    tags: Mapped[list[str]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # which evidence gave published_at
    published_source: Mapped[str | None] = mapped_column(String(PUBLISHED_SOURCE_MAX))
    updated_at: Mapped[datetime | None]
    script: Mapped[str] = mapped_column(String(20))
    encoding_declared: Mapped[str | None] = mapped_column(String(ENCODING_MAX))
    encoding_used: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime | None]
    matched_at: Mapped[datetime | None]
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True)

    __table_args__ = (Index("ix_articles_pending_match", "matched_at"),)


class Story(Base):
    """One news story as published by one or more outlets.

    Articles that are the same story (exact or near duplicates across sites) share a
    story. ``origin`` is the original source the copies name (来源: 新华社, 大众网 …);
    ``first_seen`` is when newsmon first saw any copy.
    """

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    origin: Mapped[str | None] = mapped_column(String(SOURCE_MAX))


class ArticleFingerprint(Base):
    """Dedup fingerprints of one article (see ``crawler/dedup.py``).

    ``body_hash`` finds exact copies; ``signature`` (MinHash, NUM_PERM uint32 values)
    confirms a near-duplicate that shares an LSH band in ``story_bands``.
    """

    __tablename__ = "article_fingerprints"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class StoryBand(Base):
    """One LSH band key of an article: articles sharing a key are near-duplicate
    candidates. Kept in the database so every crawl process sees every earlier one."""

    __tablename__ = "story_bands"

    key: Mapped[str] = mapped_column(String(24), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


class UrlRecord(Base):
    """The URL ledger: what newsmon knows about each URL it fetched, by canonical URL.

    Article URLs: ``state`` is ``stored`` (with ``article_id``), ``not_article`` (a
    list or channel page a sitemap called an article, a PDF), ``gone`` (404/410),
    ``forbidden`` (by robots.txt) — none of which are requested again — or ``failed``
    (retried next run).
    Start pages (lists, feeds, sitemaps): the validators of the last full answer
    (``etag``, ``last_modified``) for conditional GETs, and ``links_digest``, a hash
    of the links it led to, which tells an honest 304 from a dishonest one.
    """

    __tablename__ = "url_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    etag: Mapped[str | None] = mapped_column(String(ETAG_MAX))
    last_modified: Mapped[str | None] = mapped_column(String(LAST_MODIFIED_MAX))
    links_digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(300))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_fetched: Mapped[datetime | None]


class ConditionalGetTrust(Base):
    """Whether a site's ``304 Not Modified`` answers can be believed.

    Keyed by source and origin (``scheme://host:port``): a source is one site, and
    the sample sites share one origin, so the origin alone would not tell them apart.
    ``verdict`` is ``unproven`` until a sampled full fetch shows a 304 was honest
    (``honest``) or not (``dishonest``: conditional requests are no longer sent).
    ``trusted_304s`` counts 304s accepted since the last sampled check.
    """

    __tablename__ = "conditional_get_trust"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(20), default="unproven")
    honest_checks: Mapped[int] = mapped_column(Integer, default=0)
    dishonest_checks: Mapped[int] = mapped_column(Integer, default=0)
    trusted_304s: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("source_id", "origin"),)


class Topic(Base):
    """A tracked question, expressed in the query language."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Match(Base):
    """A (topic, article) pair, recorded once.

    ``is_new`` says whether the match was flagged for digests when first recorded
    (False for backfilled old articles); it never flips back to True.
    """

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            index=True)
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_new: Mapped[bool] = mapped_column(Boolean)
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    snippet: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("topic_id", "article_id"),)


class Delivery(Base):
    """The delivery ledger: a match handed to a subscription's channel."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    subscription: Mapped[str] = mapped_column(String(100))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("match_id", "subscription"),)


class DigestRun(Base):
    """The digest ledger: one row per digest a subscription sent, held or failed to send.

    ``status`` is ``sending`` while the channel works (a row left so by a crash means
    the matches are still pending and will be sent again), then ``sent``, ``failed``,
    ``held`` (quiet hours) or ``empty`` (nothing new, no heartbeat). The last ``sent``
    row is "the last digest" that the footer's source report counts from. ``channel``
    is the redacted channel: never a credential.
    """

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="sending")
    channel: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20))
    matches: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(200))


class CrawlRun(Base):
    """The run ledger: one row per source per crawl."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    finish_reason: Mapped[str | None] = mapped_column(String(200))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    updated_articles: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_articles: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(200))
    # Article links already in the URL ledger, so not requested (incremental crawl).
    skipped_known: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Start pages answered 304 Not Modified and believed.
    not_modified: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What became of each linked page, {outcome: pages} (crawler/outcomes.py); NULL on
    # runs from before it was counted.
    outcomes: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RunnerLease(Base):
    """The runner lease: which ``newsmon run`` process may run jobs on this database.

    One row per lease name. A holder renews ``expires_at`` while alive; another process
    may take the row over only once ``expires_at`` has passed, so at most one service
    runs jobs at a time (see ``scheduler/lease.py``).
    """

    __tablename__ = "runner_leases"

    # "runner"; with Celery workers also "job:crawl:NAME" and "host:HOSTNAME" (a host
    # name may be 253 characters long).
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class JobRun(Base):
    """The scheduler's job ledger: one row per run of a scheduled crawl or digest.

    ``job_id`` is ``crawl:SOURCE`` or ``digest:SUBSCRIPTION``. ``status`` is ``running``
    until the job ends as ``ok``, ``errors`` (exit 1: ran, some part failed), ``failed``
    (other exit codes), ``crashed`` (killed by a signal), ``timeout``, ``interrupted``
    (the service stopped or died first) or ``missed``. ``pid``/``host`` name the child
    process, so its ``crawl_runs`` rows can be closed if it never closed them itself.
    The newest row per job is its "last run" for catch-up after downtime. ``worker``
    names the ``newsmon worker`` that ran it (NULL: the runner itself, local executor)
    and ``task_id`` the broker message (the same on a redelivered message).
    """

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(200))
    scheduled_for: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    exit_code: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)
    catch_up: Mapped[bool] = mapped_column(Boolean, default=False)
    holder: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(200))
    worker: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_job_runs_job_id_id", "job_id", "id"),)


class Worker(Base):
    """One ``newsmon worker`` process, as its heartbeat last wrote it."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    queues: Mapped[str] = mapped_column(String(500))
    concurrency: Mapped[int]
    jobs_running: Mapped[int]
    started_at: Mapped[datetime]
    last_seen: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class ArticleWatch(Base):
    """One article re-visited for edits and takedowns (``newsmon/versions.py``).

    ``step`` counts the re-visits done; ``due_at`` is when the next one is due (NULL:
    the schedule is over). ``state`` is ``alive``, ``taken_down`` or ``unreachable``
    (``failures`` answers of 5xx/timeout in a row). ``etag``/``last_modified`` are the
    validators of the last full answer, ``page_hash`` a hash of its bytes.
    """

    __tablename__ = "article_watch"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           index=True)
    reason: Mapped[str] = mapped_column(String(20))
    step: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(20), default="alive")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(ETAG_MAX))
    last_modified: Mapped[str | None] = mapped_column(String(LAST_MODIFIED_MAX))
    page_hash: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_checked: Mapped[datetime | None]
    last_alive: Mapped[datetime | None]
    taken_down_at: Mapped[datetime | None]
    evidence: Mapped[str | None] = mapped_column(String(300))


class ArticleVersion(Base):
    """One version of a watched article's text; ``seq`` 1 is the first one seen and
    is never changed. ``changes`` says what differs from the version before."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(SOURCE_MAX))
    author: Mapped[str | None] = mapped_column(String(AUTHOR_MAX))
    editor: Mapped[str | None] = mapped_column(String(EDITOR_MAX))
    published_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(20))  # first | edited | cosmetic
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("article_id", "seq"),)


class ArticleCheck(Base):
    """One re-visit of a watched article: the check ledger. One row per (article,
    step), so a re-visit killed after it was recorded is never recorded twice.
    ``event`` is ``edited`` or ``taken_down`` when people should hear of it (digests,
    through ``watch_deliveries``)."""

    __tablename__ = "article_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisit_runs.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))
    status: Mapped[int | None]
    evidence: Mapped[str | None] = mapped_column(Text)
    version_seq: Mapped[int | None]
    event: Mapped[str | None] = mapped_column(String(20), index=True)

    __table_args__ = (UniqueConstraint("article_id", "step"),)


class RevisitRun(Base):
    """The re-visit run ledger: one row per ``newsmon revisit``, with what became of
    each article looked at (``outcomes``: {outcome: articles})."""

    __tablename__ = "revisit_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    source: Mapped[str | None] = mapped_column(String(100))
    due: Mapped[int] = mapped_column(Integer, default=0)
    outcomes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(200))


class WatchDelivery(Base):
    """An edit or takedown event (an ``article_checks`` row) sent to a subscription."""

    __tablename__ = "watch_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("article_checks.id", ondelete="CASCADE"))
    subscription: Mapped[str] = mapped_column(String(100))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("check_id", "subscription"),)


__all__ = [
    "Article",
    "ArticleCheck",
    "ArticleFingerprint",
    "ArticleVersion",
    "ArticleWatch",
    "Base",
    "ConditionalGetTrust",
    "CrawlRun",
    "Delivery",
    "DigestRun",
    "JobRun",
    "Match",
    "RevisitRun",
    "RunnerLease",
    "Source",
    "Story",
    "StoryBand",
    "Topic",
    "UTCDateTime",
    "UrlRecord",
    "WatchDelivery",
    "Worker",
    "utcnow",
]
