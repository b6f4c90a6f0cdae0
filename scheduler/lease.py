"""One runner per database: the lease a ``newsmon run`` must hold to run jobs.

The lease is a row (``runner_leases``, see ``storage/leases.py``) naming its holder
and an expiry. The holder renews it every third of its lifetime; a process that dies
stops renewing, and once the expiry passes another ``newsmon run`` takes it over. So
two services started on one database never both run jobs, and the second takes over
within one lease lifetime (plus one polling interval) after the first is killed.

A holder that cannot renew in time (database unreachable, process frozen) must
assume it lost the lease: :meth:`RunnerLease.is_held` turns False at the last expiry
it wrote, whatever the database says, and the service stops its jobs.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from newsmon.storage.engine import Database
from newsmon.storage.leases import (
    LeaseState,
    read_lease,
    release_lease,
    renew_lease,
    try_acquire_lease,
)

LEASE_NAME = "runner"
DEFAULT_TTL = timedelta(seconds=60)


def make_holder_id() -> str:
    """``host:pid:random`` — readable in a "waiting for HOLDER" log line, unique per start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RunnerLease:
    """This process's claim on the runner lease of one database."""

    def __init__(self, database: Database, holder: str, ttl: timedelta = DEFAULT_TTL,
                 name: str = LEASE_NAME) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"lease lifetime must be positive, got {ttl}")
        self.database = database
        self.holder = holder
        self.ttl = ttl
        self.name = name
        self._held_until: datetime | None = None

    @property
    def renew_interval(self) -> timedelta:
        """How often to renew: three chances before the lease would lapse."""
        return self.ttl / 3

    @property
    def held_until(self) -> datetime | None:
        return self._held_until

    def is_held(self, now: datetime) -> bool:
        """Whether this process may run jobs at ``now``, by its own last renewal."""
        return self._held_until is not None and now < self._held_until

    def try_acquire(self, now: datetime) -> bool:
        with self.database.session() as session, session.begin():
            won = try_acquire_lease(session, self.name, self.holder, now, self.ttl)
        self._held_until = now + self.ttl if won else None
        return won

    def renew(self, now: datetime) -> bool:
        """Extend the lease; False (and no longer held) if another process has it."""
        with self.database.session() as session, session.begin():
            kept = renew_lease(session, self.name, self.holder, now, self.ttl)
        self._held_until = now + self.ttl if kept else None
        return kept

    def current(self) -> LeaseState | None:
        """The lease row as stored (whoever holds it)."""
        with self.database.session() as session:
            return read_lease(session, self.name)

    def release(self) -> None:
        """Give the lease up so a waiting runner takes over without waiting for expiry."""
        self._held_until = None
        with self.database.session() as session, session.begin():
            release_lease(session, self.name, self.holder)
