"""The digest ledger, and the source report a digest's footer shows.

Each digest a subscription sends (or holds, or fails to send) is a ``digest_runs``
row. A send is claimed first with a ``sending`` row committed before the channel is
called; if another process holds a fresh claim for the same subscription, the later
claim steps back, so two schedulers cannot both send the same matches. A claim left
by a crash goes stale after :data:`CLAIM_LEASE` and is ignored.

The source report looks at the crawl-run ledger: which sources had failed crawls since
the last digest that was sent, which went silent (crawled, but no new article for a
while) and which are no longer crawled.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from newsmon.storage._records import added_id, record_of
from newsmon.storage.models import Article, CrawlRun, DigestRun, Source
from newsmon.values import SourceAlert

CLAIM_LEASE = timedelta(minutes=30)  # longer than any channel's retries take

SENDING = "sending"
SENT = "sent"
FAILED = "failed"
HELD = "held"
EMPTY = "empty"
BUSY = "busy"  # another process was sending this subscription's digest


@dataclass(frozen=True, slots=True)
class DigestRunRecord:
    id: int
    subscription: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    channel: str
    format: str
    matches: int
    error: str | None
    pid: int | None = None
    host: str | None = None


def claim_digest(session: Session, subscription: str, channel: str, fmt: str,
                 now: datetime) -> int:
    """Insert a ``sending`` row; commit it before calling :func:`competing_claim`, and
    read the pending matches only after that, so no other claimant can be midway
    through sending them."""
    return added_id(session, DigestRun(
        subscription=subscription, started_at=now, status=SENDING, channel=channel,
        format=fmt, matches=0, pid=os.getpid(), host=socket.gethostname()))


def competing_claim(session: Session, subscription: str, run_id: int, now: datetime
                    ) -> DigestRunRecord | None:
    """An earlier, still fresh ``sending`` claim for ``subscription``, if any.

    Every claimant commits its row before asking, so of two overlapping claims the
    later one always sees the earlier one (lower id) and steps back.
    """
    run = session.scalars(
        select(DigestRun)
        .where(DigestRun.subscription == subscription, DigestRun.status == SENDING,
               DigestRun.id < run_id, DigestRun.started_at > now - CLAIM_LEASE)
        .order_by(DigestRun.id).limit(1)).first()
    return None if run is None else record_of(DigestRunRecord, run)


def finish_digest(session: Session, run_id: int, status: str, now: datetime,
                  matches: int | None = None, error: str | None = None) -> None:
    values: dict[str, object] = {"status": status, "finished_at": now, "error": error}
    if matches is not None:
        values["matches"] = matches
    session.execute(update(DigestRun).where(DigestRun.id == run_id).values(**values))


def last_sent_at(session: Session, subscription: str) -> datetime | None:
    """When the last digest that reached ``subscription`` was started."""
    return session.scalar(select(func.max(DigestRun.started_at))
                          .where(DigestRun.subscription == subscription,
                                 DigestRun.status == SENT))


def recent_digests(session: Session, subscription: str | None = None, limit: int = 20
                   ) -> list[DigestRunRecord]:
    """The newest digest runs, newest first (of one subscription, or of all)."""
    stmt = select(DigestRun).order_by(DigestRun.id.desc()).limit(limit)
    if subscription is not None:
        stmt = stmt.where(DigestRun.subscription == subscription)
    return [record_of(DigestRunRecord, run) for run in session.scalars(stmt)]


def source_report(session: Session, since: datetime, now: datetime,
                  silent_after: timedelta | None, sources: Sequence[str] | None = None
                  ) -> list[SourceAlert]:
    """The sources that failed since ``since``, or are not crawled or silent, by name.

    ``sources`` are the configured names (None: every source in the database). A
    failure is news once: it is counted only since the last digest. Silence is a
    state, reported while it lasts; ``silent_after=None`` reports failures only.
    """
    runs_by_source = _finished_runs_since(session, since)
    newest_article = _latest_per_source(session, Article.first_seen)
    last_crawl = _latest_per_source(session, CrawlRun.started_at)
    names = list(sources) if sources is not None else sorted(set(last_crawl) | set(newest_article))
    alerts = []
    for name in names:
        runs = runs_by_source.get(name, [])
        failed = [run for run in runs if run.status != "finished" or any(run.errors.values())]
        errors: Counter[str] = Counter()
        for run in failed:
            errors.update({kind: int(count) for kind, count in run.errors.items()})
        crawled, newest = last_crawl.get(name), newest_article.get(name)
        if failed:
            kind = "failed"
        elif silent_after is None:
            continue
        elif crawled is None or now - crawled > silent_after:
            kind = "not crawled"
        elif newest is None or now - newest > silent_after:
            kind = "silent"
        else:
            continue
        alerts.append(SourceAlert(name, kind, len(runs), len(failed), dict(errors),
                                  crawled, newest))
    return alerts


def _finished_runs_since(session: Session, since: datetime) -> dict[str, list[CrawlRun]]:
    rows = session.execute(select(Source.name, CrawlRun)
                           .join(Source, Source.id == CrawlRun.source_id)
                           .where(CrawlRun.started_at >= since, CrawlRun.status != "running")
                           .order_by(CrawlRun.id))
    runs: dict[str, list[CrawlRun]] = {}
    for name, run in rows:
        runs.setdefault(name, []).append(run)
    return runs


def _latest_per_source(session: Session, moment: InstrumentedAttribute[datetime]
                       ) -> dict[str, datetime]:
    """Per source name, the latest ``moment`` among its rows (articles, crawl runs)."""
    rows_of = moment.class_  # the table that holds ``moment``, keyed by source_id
    rows = session.execute(select(Source.name, func.max(moment))
                           .join(rows_of, rows_of.source_id == Source.id)
                           .group_by(Source.name))
    return {name: latest for name, latest in rows if latest is not None}
