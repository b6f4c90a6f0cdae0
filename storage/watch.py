"""The watch ledger: which articles are re-visited, their checks, versions and events.

Repositories return plain values (:class:`WatchTarget`, :class:`VersionRecord`,
:class:`WatchEvent` …); what a fetch *means* is decided in ``newsmon/versions.py``.

Exactly once per re-visit: :func:`record_check` advances the watch with a
compare-and-set on its ``step`` and inserts the check under the unique
(article, step) key in the caller's transaction, together with the new version and
the article's new text. A re-visit killed before its transaction commits is done
again by the next run; one killed after it is not done twice.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from newsmon.storage._dialect import insert_for
from newsmon.storage._records import added_id, record_of
from newsmon.storage.models import (
    Article,
    ArticleCheck,
    ArticleVersion,
    ArticleWatch,
    Match,
    RevisitRun,
    Source,
    Topic,
    UrlRecord,
    WatchDelivery,
)
from newsmon.versions import Snapshot, Verdict, WatchEvent, due_at, first_step, next_step

EVENT_OUTCOMES = ("edited", "taken_down")


@dataclass(frozen=True, slots=True)
class WatchTarget:
    """One due re-visit: the article, where to fetch it, what is stored of it."""

    article_id: int
    source: str
    url: str
    step: int
    first_seen: datetime
    published_at: datetime | None
    state: str
    failures: int
    etag: str | None
    last_modified: str | None
    page_hash: str | None
    stored: Snapshot


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`record_check` stored; None from it when another run did it first."""

    outcome: str
    event: str | None
    version_seq: int | None
    text_changed: bool


def enrol_watches(session: Session, modes: Mapping[str, str],
                  offsets: Sequence[timedelta], now: datetime) -> int:
    """Start watching the articles the sources' ``watch`` modes ask for (``all``, or
    ``matched``: those with a topic match) that are not watched yet. Articles whose
    whole schedule lies in the past are enrolled as finished. A watch starts with the
    validators the crawl kept in the URL ledger, so its first re-visit is conditional
    (an unchanged page answers 304 instead of being fetched and extracted again)."""
    enrolled = 0
    for name, mode in modes.items():
        if mode == "off":
            continue
        source_id = session.scalar(select(Source.id).where(Source.name == name))
        if source_id is None:
            continue
        # The article's newest ledger row with validators (one per URL spelling).
        kept = aliased(UrlRecord)
        ledger_row = (select(kept.id)
                      .where(kept.article_id == Article.id,
                             or_(kept.etag.is_not(None), kept.last_modified.is_not(None)))
                      .order_by(kept.last_fetched.desc(), kept.id.desc())
                      .limit(1).correlate(Article).scalar_subquery())
        wanted = (select(Article.id, Article.first_seen, UrlRecord.etag,
                         UrlRecord.last_modified)
                  .outerjoin(UrlRecord, UrlRecord.id == ledger_row)
                  .where(Article.source_id == source_id,
                         ~exists().where(ArticleWatch.article_id == Article.id)))
        if mode == "matched":
            wanted = wanted.where(exists().where(Match.article_id == Article.id))
        rows = session.execute(wanted.order_by(Article.id)).all()
        for article_id, first_seen, etag, last_modified in rows:
            step = first_step(first_seen, offsets, now)
            session.execute(insert(ArticleWatch).values(
                article_id=article_id, source_id=source_id, reason=mode,
                step=len(offsets) if step is None else step,
                due_at=due_at(first_seen, offsets, step), state="alive", failures=0,
                enrolled_at=now, etag=etag, last_modified=last_modified))
            enrolled += 1
    return enrolled


def due_watches(session: Session, now: datetime, limit: int,
                sources: Sequence[str] | None = None) -> list[WatchTarget]:
    """The re-visits due at ``now``, the longest overdue first, at most ``limit``."""
    stmt = (select(ArticleWatch, Article, Source.name)
            .join(Article, Article.id == ArticleWatch.article_id)
            .join(Source, Source.id == ArticleWatch.source_id)
            .where(ArticleWatch.due_at.is_not(None), ArticleWatch.due_at <= now)
            .order_by(ArticleWatch.due_at, ArticleWatch.article_id).limit(limit))
    if sources:
        stmt = stmt.where(Source.name.in_(list(sources)))
    return [WatchTarget(article.id, name, article.url, watch.step, article.first_seen,
                        article.published_at, watch.state, watch.failures, watch.etag,
                        watch.last_modified, watch.page_hash, record_of(Snapshot, article))
            for watch, article, name in session.execute(stmt).all()]


@dataclass(frozen=True, slots=True)
class CheckWrite:
    """Everything one re-visit stores."""

    target: WatchTarget
    verdict: Verdict
    status: int | None
    checked_at: datetime
    run_id: int | None
    offsets: Sequence[timedelta]
    unreachable_after: int
    etag: str | None = None
    last_modified: str | None = None
    page_hash: str | None = None
    # The new version's normalised text and content hash (articles.title_norm …).
    title_norm: str = ""
    body_norm: str = ""
    content_hash: str = ""


def record_check(session: Session, write: CheckWrite) -> CheckResult | None:
    """Store one re-visit; None when this step was already recorded (by a run that
    was killed after committing, or by a concurrent one)."""
    target, verdict, now = write.target, write.verdict, write.checked_at
    state, failures, outcome, event = _next_state(target, verdict, write.unreachable_after)
    following = next_step(target.first_seen, write.offsets, target.step, now)
    values: dict[str, Any] = {
        "step": len(write.offsets) if following is None else following,
        "due_at": due_at(target.first_seen, write.offsets, following),
        "state": state, "failures": failures, "last_checked": now}
    if verdict.outcome in ("not_modified", "unchanged", "edited", "cosmetic"):
        values["last_alive"] = now
    if write.etag or write.last_modified:
        values.update(etag=write.etag, last_modified=write.last_modified)
    if write.page_hash:
        values["page_hash"] = write.page_hash
    if event == "taken_down":
        values.update(taken_down_at=now, evidence=verdict.evidence[:300])
    moved = session.scalar(update(ArticleWatch).where(
        ArticleWatch.article_id == target.article_id, ArticleWatch.step == target.step)
        .values(**values).returning(ArticleWatch.article_id))
    if moved is None:  # the compare-and-set lost: this step is recorded already
        return None
    seq = _store_version(session, write) if verdict.snapshot is not None and \
        verdict.outcome in ("edited", "cosmetic") else None
    session.execute(insert(ArticleCheck).values(
        article_id=target.article_id, step=target.step, run_id=write.run_id, checked_at=now,
        outcome=outcome, status=write.status, evidence=verdict.evidence or None,
        version_seq=seq, event=event))
    return CheckResult(outcome, event, seq, seq is not None)


def _next_state(target: WatchTarget, verdict: Verdict, unreachable_after: int
                ) -> tuple[str, int, str, str | None]:
    """(state, failures in a row, the check's outcome, its event)."""
    if verdict.outcome == "failed":
        failures = target.failures + 1
        if target.state == "taken_down":
            return "taken_down", failures, "failed", None
        state = "unreachable" if failures >= unreachable_after else target.state
        return state, failures, "unreachable" if state == "unreachable" else "failed", None
    if verdict.outcome == "taken_down":
        event = None if target.state == "taken_down" else "taken_down"
        return "taken_down", 0, "taken_down", event
    restored = target.state == "taken_down"
    outcome = "restored" if restored and verdict.outcome in ("unchanged", "not_modified") \
        else verdict.outcome
    return "alive", 0, outcome, "edited" if verdict.outcome == "edited" else None


def _store_version(session: Session, write: CheckWrite) -> int:
    """Keep the text before the change as version 1 (when no version is kept yet),
    store the new one, and make the article show it (the search index follows)."""
    target, snapshot = write.target, write.verdict.snapshot
    assert snapshot is not None
    newest = session.scalar(select(func.max(ArticleVersion.seq))
                            .where(ArticleVersion.article_id == target.article_id))
    if newest is None:
        _insert_version(session, target.article_id, 1, target.first_seen, target.stored,
                        "first", [])
        newest = 1
    changes = [change.as_dict() for change in write.verdict.diff.changes]
    kind = "edited" if write.verdict.outcome == "edited" else "cosmetic"
    _insert_version(session, target.article_id, newest + 1, write.checked_at, snapshot, kind,
                    changes)
    session.execute(update(Article).where(Article.id == target.article_id).values(
        title=snapshot.title, body=snapshot.body, title_norm=write.title_norm,
        body_norm=write.body_norm, content_hash=write.content_hash, source=snapshot.source,
        author=snapshot.author, editor=snapshot.editor,
        published_at=snapshot.published_at or target.published_at,
        changed_at=write.checked_at, last_seen=write.checked_at,
        matched_at=write.checked_at))
    return newest + 1


def _insert_version(session: Session, article_id: int, seq: int, seen: datetime,
                    snapshot: Snapshot, kind: str, changes: list[dict[str, Any]]) -> None:
    session.execute(insert(ArticleVersion).values(
        article_id=article_id, seq=seq, seen_at=seen, content_hash=snapshot.content_hash,
        kind=kind, changes=changes, **asdict(snapshot)))


# -- the run ledger -------------------------------------------------------------------------


def start_revisit_run(session: Session, now: datetime, source: str | None, due: int,
                      pid: int) -> int:
    return added_id(session, RevisitRun(started_at=now, status="running", source=source,
                                        due=due, outcomes={}, pid=pid,
                                        host=socket.gethostname()))


def finish_revisit_run(session: Session, run_id: int, now: datetime, status: str,
                       outcomes: Mapping[str, int]) -> None:
    session.execute(update(RevisitRun).where(RevisitRun.id == run_id).values(
        finished_at=now, status=status, outcomes=dict(outcomes)))


@dataclass(frozen=True, slots=True)
class RevisitRunRecord:
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    source: str | None
    due: int
    outcomes: dict[str, int]


def revisit_runs(session: Session, limit: int = 10) -> list[RevisitRunRecord]:
    """The newest re-visit runs first."""
    runs = session.scalars(select(RevisitRun).order_by(RevisitRun.id.desc()).limit(limit))
    return [record_of(RevisitRunRecord, run, outcomes=dict(run.outcomes or {}))
            for run in runs]


@dataclass(frozen=True, slots=True)
class WatchQueue:
    """``newsmon status``: watched articles due now, due later, finished; by state."""

    due_now: int
    due_later: int
    finished: int
    next_due: datetime | None
    taken_down: int
    unreachable: int


def watch_queue(session: Session, now: datetime) -> WatchQueue:
    due = ArticleWatch.due_at
    count = func.count()
    due_now = session.scalar(select(count).where(due.is_not(None), due <= now)) or 0
    later = session.scalar(select(count).where(due > now)) or 0
    finished = session.scalar(select(count).select_from(ArticleWatch)
                              .where(due.is_(None))) or 0
    next_due = session.scalar(select(func.min(due)).where(due > now))
    states = dict(session.execute(select(ArticleWatch.state, count)
                                  .group_by(ArticleWatch.state)).all())
    return WatchQueue(due_now, later, finished, next_due, states.get("taken_down", 0),
                      states.get("unreachable", 0))


# -- versions and checks of one article --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionRecord:
    seq: int
    seen_at: datetime
    kind: str
    content_hash: str
    snapshot: Snapshot
    changes: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class CheckRecord:
    step: int
    checked_at: datetime
    outcome: str
    status: int | None
    evidence: str | None
    version_seq: int | None


@dataclass(frozen=True, slots=True)
class WatchState:
    state: str
    step: int
    due_at: datetime | None
    last_checked: datetime | None
    last_alive: datetime | None
    taken_down_at: datetime | None
    evidence: str | None


def article_versions(session: Session, article_id: int) -> list[VersionRecord]:
    versions = session.scalars(select(ArticleVersion)
                               .where(ArticleVersion.article_id == article_id)
                               .order_by(ArticleVersion.seq))
    return [record_of(VersionRecord, version, snapshot=record_of(Snapshot, version),
                      changes=list(version.changes or []))
            for version in versions]


def article_checks(session: Session, article_id: int) -> list[CheckRecord]:
    checks = session.scalars(select(ArticleCheck).where(ArticleCheck.article_id == article_id)
                             .order_by(ArticleCheck.step))
    return [record_of(CheckRecord, check) for check in checks]


def watch_state(session: Session, article_id: int) -> WatchState | None:
    watch = session.get(ArticleWatch, article_id)
    return None if watch is None else record_of(WatchState, watch)


# -- events for digests ------------------------------------------------------------------------


def undelivered_events(session: Session, subscription: str,
                       topics: Sequence[str] | None = None) -> list[WatchEvent]:
    """Edits and takedowns of articles matched by the subscription's topics (all
    topics when None) that the subscription has not received, oldest first."""
    matched = select(Match.id).join(Topic, Topic.id == Match.topic_id).where(
        Match.article_id == ArticleCheck.article_id)
    if topics:
        matched = matched.where(Topic.name.in_(list(topics)))
    sent = select(WatchDelivery.id).where(WatchDelivery.check_id == ArticleCheck.id,
                                          WatchDelivery.subscription == subscription)
    rows = session.execute(
        select(ArticleCheck, Article, Source.name, ArticleVersion.changes)
        .join(Article, Article.id == ArticleCheck.article_id)
        .join(Source, Source.id == Article.source_id)
        .join(ArticleWatch, ArticleWatch.article_id == Article.id)
        .outerjoin(ArticleVersion, and_(ArticleVersion.article_id == ArticleCheck.article_id,
                                        ArticleVersion.seq == ArticleCheck.version_seq))
        .where(ArticleCheck.event.in_(EVENT_OUTCOMES), matched.exists(), ~sent.exists())
        .order_by(ArticleCheck.checked_at, ArticleCheck.id)).all()
    return [WatchEvent(check.id, article.id, check.event or "", check.checked_at,
                       article.title, article.url, site, article.published_at,
                       article.first_seen, check.evidence or "",
                       _last_alive_before(session, check), list(changes or []))
            for check, article, site, changes in rows]


def _last_alive_before(session: Session, check: ArticleCheck) -> datetime | None:
    """When the article was last seen alive before this check (its first sighting if
    no re-visit found it alive)."""
    alive = session.scalar(select(func.max(ArticleCheck.checked_at)).where(
        ArticleCheck.article_id == check.article_id, ArticleCheck.step < check.step,
        ArticleCheck.outcome.in_(("unchanged", "not_modified", "edited", "cosmetic",
                                  "restored"))))
    if alive is not None:
        return alive
    return session.scalar(select(Article.last_seen).where(Article.id == check.article_id))


def mark_events_delivered(session: Session, check_ids: Sequence[int], subscription: str,
                          now: datetime) -> None:
    """Record delivery (idempotent: marking twice is harmless)."""
    for check_id in check_ids:
        session.execute(insert_for(session, WatchDelivery)
                        .values(check_id=check_id, subscription=subscription, delivered_at=now)
                        .on_conflict_do_nothing(index_elements=["check_id", "subscription"]))

