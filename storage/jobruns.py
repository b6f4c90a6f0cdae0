"""The scheduler's job ledger (``job_runs``) and closing crawl runs a child left open.

Every run of a scheduled job gets a row when it starts and its outcome when it ends,
so "did last night's crawl run, and how did it end?" is a query. A service that dies
leaves its rows ``running``; the next lease holder marks them ``interrupted``
(:func:`interrupt_stale_job_runs`) and closes the ``crawl_runs`` rows of their child
processes (:func:`close_child_crawl_runs`). Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newsmon.storage._records import added_id, record_of
from newsmon.storage.models import CrawlRun, JobRun

RUNNING = "running"
INTERRUPTED = "interrupted"
MISSED = "missed"
CRAWL_FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class JobRunRecord:
    """One row of the job ledger, as a plain value."""

    id: int
    job_id: str
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    exit_code: int | None
    detail: str | None
    catch_up: bool
    holder: str
    pid: int | None
    host: str | None
    worker: str | None = None  # the `newsmon worker` that ran it (None: the runner)
    task_id: str | None = None  # the broker message it came from


def start_job_run(session: Session, job_id: str, *, scheduled_for: datetime | None,
                  started_at: datetime, holder: str, host: str, catch_up: bool = False,
                  worker: str | None = None, task_id: str | None = None) -> int:
    """Open a ``running`` row for a job that starts now; returns its id."""
    return added_id(session, JobRun(
        job_id=job_id, scheduled_for=scheduled_for, started_at=started_at, status=RUNNING,
        catch_up=catch_up, holder=holder, host=host, worker=worker, task_id=task_id))


def set_job_child(session: Session, run_id: int, pid: int) -> None:
    """Remember the child process of a run (its crawl runs carry the same pid)."""
    session.execute(update(JobRun).where(JobRun.id == run_id).values(pid=pid))


def finish_job_run(session: Session, run_id: int, *, finished_at: datetime, status: str,
                   exit_code: int | None, detail: str | None) -> None:
    session.execute(update(JobRun).where(JobRun.id == run_id).values(
        finished_at=finished_at, status=status, exit_code=exit_code, detail=detail))


def record_missed_run(session: Session, job_id: str, *, scheduled_for: datetime,
                      now: datetime, holder: str, host: str, detail: str) -> int:
    """A fire time the scheduler gave up on (too late to start): recorded, never silent."""
    return added_id(session, JobRun(
        job_id=job_id, scheduled_for=scheduled_for, started_at=now, finished_at=now,
        status=MISSED, detail=detail, holder=holder, host=host))


def latest_job_runs(session: Session, job_ids: Iterable[str] | None = None
                    ) -> dict[str, JobRunRecord]:
    """The newest run of each job (of ``job_ids`` when given)."""
    newest = select(JobRun.job_id, func.max(JobRun.id).label("run_id")).group_by(JobRun.job_id)
    if job_ids is not None:
        newest = newest.where(JobRun.job_id.in_(list(job_ids)))
    sub = newest.subquery()
    rows = session.scalars(select(JobRun).join(sub, sub.c.run_id == JobRun.id))
    return {row.job_id: record_of(JobRunRecord, row) for row in rows}


def job_runs(session: Session, job_id: str | None = None) -> list[JobRunRecord]:
    """Every run (of one job when given), oldest first."""
    query = select(JobRun).order_by(JobRun.id)
    if job_id is not None:
        query = query.where(JobRun.job_id == job_id)
    return [record_of(JobRunRecord, row) for row in session.scalars(query)]


def interrupt_stale_job_runs(session: Session, *, holder: str, now: datetime,
                             detail: str) -> list[JobRunRecord]:
    """Mark ``running`` rows of other holders interrupted; returns them as they were.

    Called by a process that has just taken the lease: no other runner is alive, so a
    row still ``running`` belongs to a service that died or was killed mid-job. Rows
    run by a ``newsmon worker`` are not the runner's: their workers may well be alive
    (see :func:`interrupt_dead_worker_runs`).
    """
    stale = session.scalars(select(JobRun).where(
        JobRun.status == RUNNING, JobRun.holder != holder, JobRun.worker.is_(None)))
    return _interrupt(session, list(stale), now, lambda row: f"{detail} (holder {row.holder})")


def interrupt_dead_worker_runs(session: Session, *, job_id: str, now: datetime,
                               detail: str) -> list[JobRunRecord]:
    """Mark the ``running`` worker rows of ``job_id`` interrupted.

    Called by a worker that has just taken the job's lease, before it opens its own
    row: the lease lapsed, so whoever opened such a row stopped renewing it — its
    worker died or was cut off (and then ended its child itself).
    """
    stale = session.scalars(select(JobRun).where(
        JobRun.job_id == job_id, JobRun.status == RUNNING, JobRun.worker.is_not(None)))
    return _interrupt(session, list(stale), now, lambda row: f"{detail} (worker {row.worker})")


def _interrupt(session: Session, stale: list[JobRun], now: datetime,
               detail: Callable[[JobRun], str]) -> list[JobRunRecord]:
    """Mark ``stale`` rows interrupted; returns them as they were."""
    records = [record_of(JobRunRecord, row) for row in stale]
    for row in stale:
        row.status, row.finished_at, row.detail = INTERRUPTED, now, detail(row)
    session.flush()
    return records


def close_child_crawl_runs(session: Session, *, host: str, pid: int, since: datetime,
                           status: str, reason: str, now: datetime) -> int:
    """Close the crawl runs a child process did not finish; returns how many.

    Rows of that child (same host and pid, started at or after ``since``) that are not
    ``finished`` get ``status`` and ``reason``; a reason the crawl wrote itself (e.g.
    Scrapy's ``shutdown``) is kept after ours. Counts the crawl stored stay as written.
    """
    rows = list(session.scalars(select(CrawlRun).where(
        CrawlRun.host == host, CrawlRun.pid == pid, CrawlRun.started_at >= since,
        CrawlRun.status != CRAWL_FINISHED)))
    for row in rows:
        own = row.finish_reason
        row.finish_reason = (f"{reason} (crawl said: {own})" if own else reason)[:200]
        row.status = status
        row.finished_at = row.finished_at or now
    session.flush()
    return len(rows)


def ran_since(session: Session, job_id: str, since: datetime) -> bool:
    """Whether a run of ``job_id`` started at or after ``since`` and ended (not
    interrupted or missed): a job message sent at ``since`` is then already served."""
    found = session.scalar(select(JobRun.id).where(
        JobRun.job_id == job_id, JobRun.started_at >= since,
        JobRun.status.not_in([RUNNING, INTERRUPTED, MISSED])).limit(1))
    return found is not None
