"""The ``workers`` table: each ``newsmon worker``'s heartbeat, for ``newsmon status``.

A worker upserts its row when it starts and every few seconds after (how many jobs it
runs right now), and stamps ``stopped_at`` when it stops cleanly. A worker killed with
SIGKILL simply stops beating: its ``last_seen`` ages, which is what status shows.
Callers own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsmon.storage._dialect import insert_for
from newsmon.storage._records import record_of
from newsmon.storage.models import Worker


@dataclass(frozen=True, slots=True)
class WorkerState:
    """One worker's row as read."""

    name: str
    host: str
    pid: int
    queues: str
    concurrency: int
    jobs_running: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None


def beat(session: Session, *, name: str, host: str, pid: int, queues: str,
         concurrency: int, jobs_running: int, now: datetime) -> None:
    """Insert or refresh the worker's row (the same name restarted starts afresh)."""
    values = {"host": host, "pid": pid, "queues": queues[:500], "concurrency": concurrency,
              "jobs_running": jobs_running, "last_seen": now, "stopped_at": None}
    session.execute(
        insert_for(session, Worker)
        .values(name=name, started_at=now, **values)
        .on_conflict_do_update(index_elements=["name"], set_=values))


def mark_stopped(session: Session, name: str, now: datetime) -> None:
    session.execute(update(Worker).where(Worker.name == name).values(
        stopped_at=now, last_seen=now, jobs_running=0))


def workers_seen_since(session: Session, since: datetime) -> list[WorkerState]:
    """Workers whose last heartbeat is at or after ``since``, newest first."""
    rows = session.scalars(select(Worker).where(Worker.last_seen >= since)
                           .order_by(Worker.last_seen.desc(), Worker.name))
    return [record_of(WorkerState, row) for row in rows]
