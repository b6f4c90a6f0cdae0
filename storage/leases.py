"""Leases: rows that say which process may do something, until when.

``runner``: which ``newsmon run`` may run scheduled jobs. With the Celery executor,
workers also take ``job:KIND:NAME`` (one run of a job at a time in the cluster) and
``host:HOSTNAME`` (one crawl at a time per host) for each job execution
(``scheduler/cluster/worker.py``), several at once with :func:`try_acquire_leases`.

Taking and renewing are single conditional statements (``UPDATE … WHERE holder = me OR
expires_at < now``), so two processes racing for an expired lease cannot both win on
either backend: SQLite serialises writers, and PostgreSQL re-checks the ``WHERE`` of
the second ``UPDATE`` against the row the first one committed.

"now" is passed in by the caller; hosts sharing one PostgreSQL database need clocks
kept in sync (NTP), since each compares its own clock with ``expires_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from newsmon.storage._dialect import insert_for
from newsmon.storage._records import record_of, rowcount
from newsmon.storage.models import RunnerLease


@dataclass(frozen=True, slots=True)
class LeaseState:
    """The lease row as read: who holds it and until when."""

    name: str
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


def try_acquire_lease(session: Session, name: str, holder: str, now: datetime,
                      ttl: timedelta) -> bool:
    """Take the lease for ``holder`` if it is free, expired or already ours.

    Returns True when ``holder`` holds it afterwards (until ``now + ttl``).
    """
    expires = now + ttl
    # RETURNING, not rowcount: psycopg reports -1 rows for ON CONFLICT DO NOTHING.
    inserted = session.execute(
        insert_for(session, RunnerLease)
        .values(name=name, holder=holder, acquired_at=now, renewed_at=now, expires_at=expires)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(RunnerLease.name)
    ).first()
    if inserted is not None:
        return True
    # The rows touched decide who won a race.
    taken = rowcount(session.execute(
        update(RunnerLease)
        .where(RunnerLease.name == name,
               or_(RunnerLease.holder == holder, RunnerLease.expires_at < now))
        .values(holder=holder, acquired_at=now, renewed_at=now, expires_at=expires)
        .execution_options(synchronize_session=False)
    ))
    return bool(taken)


def renew_lease(session: Session, name: str, holder: str, now: datetime,
                ttl: timedelta) -> bool:
    """Push the expiry of ``holder``'s lease to ``now + ttl``; False if it is not ours.

    Renewing a lease that expired but that nobody took over is allowed: no other
    process can have run jobs in between, because taking it over changes ``holder``.
    """
    renewed = rowcount(session.execute(
        update(RunnerLease)
        .where(RunnerLease.name == name, RunnerLease.holder == holder)
        .values(renewed_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    ))
    return bool(renewed)


def release_lease(session: Session, name: str, holder: str) -> bool:
    """Give the lease up (on a clean stop) so a waiting process takes over at once."""
    removed = rowcount(session.execute(
        delete(RunnerLease).where(RunnerLease.name == name, RunnerLease.holder == holder)
        .execution_options(synchronize_session=False)
    ))
    return bool(removed)


def read_lease(session: Session, name: str) -> LeaseState | None:
    """The lease row, or None when nobody holds or held it."""
    row = session.scalar(select(RunnerLease).where(RunnerLease.name == name))
    return None if row is None else record_of(LeaseState, row)


def try_acquire_leases(session: Session, names: list[str], holder: str, now: datetime,
                       ttl: timedelta) -> str | None:
    """Take every lease in ``names`` for ``holder``; the first one that is taken, or None.

    Leases are taken in sorted order. When one is held by a live other holder the
    caller must roll the transaction back, so the leases are all taken or none (a
    worker never sits on one host while waiting for another: no deadlock).
    """
    for name in sorted(set(names)):
        if not try_acquire_lease(session, name, holder, now, ttl):
            return name
    return None


def renew_leases(session: Session, names: list[str], holder: str, now: datetime,
                 ttl: timedelta) -> list[str]:
    """Renew ``holder``'s leases; returns the names it no longer holds."""
    return [name for name in sorted(set(names))
            if not renew_lease(session, name, holder, now, ttl)]


def release_leases(session: Session, names: list[str], holder: str) -> None:
    for name in sorted(set(names)):
        release_lease(session, name, holder)
