"""The crawl-run ledger: one row per source per crawl, so "did last night's crawl
work?" is a query, not a log search."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newsmon.status import RunRecord
from newsmon.storage._records import added_id, record_of
from newsmon.storage.models import Article, CrawlRun, Source
from newsmon.values import CrawlStats


def start_run(session: Session, source_id: int, now: datetime) -> int:
    return added_id(session, CrawlRun(source_id=source_id, started_at=now, status="running",
                                      pid=os.getpid(), host=socket.gethostname()))


def finish_run(session: Session, run_id: int, stats: CrawlStats, now: datetime,
               status: str = "finished") -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
        finished_at=now, status=status, finish_reason=stats.finish_reason, pages=stats.pages,
        new_articles=stats.new_articles, updated_articles=stats.updated_articles,
        unchanged_articles=stats.unchanged_articles, errors=dict(stats.errors),
        skipped_known=stats.skipped_known, not_modified=stats.not_modified,
        outcomes=dict(stats.outcomes)))


def run_record(name: str, run: CrawlRun) -> RunRecord:
    """One crawl-run row as the core's :class:`RunRecord`."""
    return record_of(RunRecord, run, source=name, errors=_counts(run.errors),
                     outcomes=_counts(run.outcomes))


def _counts(stored: dict[str, Any] | None) -> dict[str, int]:
    """A JSON column of counts as plain ``{str: int}`` (NULL: none)."""
    return {str(key): int(value) for key, value in (stored or {}).items()}


def run_history(session: Session, per_source: int = 30) -> dict[str, list[RunRecord]]:
    """The newest ``per_source`` runs of every source, newest first, as plain values."""
    ranked = (select(CrawlRun.id, func.row_number().over(
        partition_by=CrawlRun.source_id, order_by=CrawlRun.id.desc()).label("rank"))
        .subquery())
    rows = session.execute(select(Source.name, CrawlRun)
                           .join(ranked, ranked.c.id == CrawlRun.id)
                           .join(Source, Source.id == CrawlRun.source_id)
                           .where(ranked.c.rank <= per_source)
                           .order_by(Source.name, CrawlRun.id.desc()))
    history: dict[str, list[RunRecord]] = {}
    for name, run in rows:
        history.setdefault(name, []).append(run_record(name, run))
    return history


def source_summaries(session: Session) -> dict[str, dict[str, object]]:
    """Per source name: stored articles and when its newest run started (ISO 8601)."""
    counts = dict(session.execute(select(Source.name, func.count(Article.id))
                                  .join(Article, Article.source_id == Source.id, isouter=True)
                                  .group_by(Source.name)).all())
    summaries: dict[str, dict[str, object]] = {
        name: {"articles": int(count), "last_run": None} for name, count in counts.items()}
    for name, newest in run_history(session, per_source=1).items():
        summaries.setdefault(name, {"articles": 0})["last_run"] = newest[0].started_at.isoformat()
    return summaries
