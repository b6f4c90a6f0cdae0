"""Run a digest: claim, read the ledgers, build, send, and mark only what was accepted.

:func:`run_digest` is what ``newsmon digest``, and so every scheduled digest, does for
one subscription; :func:`preview_digest` builds the digest without sending it; and
:func:`open_subscription_channel` opens the channel a subscription sends to. The order
of :func:`run_digest`'s steps is what makes each match reach a subscription exactly
once:

1. a ``sending`` claim is committed, and a fresh earlier claim makes this one step
   back (two processes never send the same subscription at once);
2. only then are the pending matches read, so a digest sent by another process just
   before is already marked;
3. an empty digest (without heartbeat) and quiet hours end the run here: the
   matches stay pending, held until the next digest after the quiet hours;
4. the channel sends; if it raises, the run is ``failed`` and nothing is marked;
5. the matches are marked delivered and the run ``sent`` in one transaction. A crash
   between 4 and 5 leaves them pending: at worst the next digest repeats them,
   it never loses them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from newsmon.config import Config, SubscriptionConfig
from newsmon.delivery import Channel, DeliveryError, open_channel
from newsmon.digest import Digest, build_digest, change_entries, quiet_hours_end
from newsmon.jobresult import DigestResult
from newsmon.storage.digests import (
    BUSY,
    EMPTY,
    FAILED,
    HELD,
    SENT,
    DigestRunRecord,
    claim_digest,
    competing_claim,
    finish_digest,
    last_sent_at,
    source_report,
)
from newsmon.storage.engine import Database
from newsmon.storage.matches import (
    delivered_matches,
    delivered_story_companions,
    mark_delivered,
    undelivered_matches,
)
from newsmon.storage.watch import mark_events_delivered, undelivered_events

FEED_WINDOW = 100  # delivered matches an Atom feed keeps showing
FIRST_LOOKBACK = timedelta(hours=24)  # source report span before the first digest


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What became of one subscription's digest.

    ``status`` is ``sent``, ``empty`` (nothing new, no heartbeat), ``held`` (quiet
    hours, until ``held_until``), ``failed`` (``error`` says why), ``busy`` (another
    process is sending it) or ``dry-run``. Only ``sent`` marked anything delivered.
    """

    subscription: str
    status: str
    channel: str
    format: str
    digest: Digest | None
    held_until: datetime | None = None
    error: str | None = None

    @property
    def matches(self) -> int:
        return len(self.digest.match_ids) if self.digest else 0

    @property
    def result(self) -> DigestResult:
        """What a scheduled run reports to the service (:mod:`newsmon.jobresult`)."""
        return DigestResult(self.subscription, self.status, self.matches, self.channel,
                            self.format, self.error)


def open_subscription_channel(config: Config, subscription: SubscriptionConfig,
                              override: str | None, *, env: Mapping[str, str],
                              write: Callable[[str], None]) -> Channel:
    """The channel ``subscription`` sends to, or ``override`` instead; credentials come
    from ``env``, never the config. A channel in the config file is relative to that
    file, one given by the user to where the user is. Raises ``ChannelError``."""
    base_dir = (config.path.parent if config.path is not None and override is None
                else Path.cwd())
    return open_channel(override or subscription.channel, env=env, base_dir=base_dir,
                        write=write, email_to=subscription.email_to,
                        email_from=subscription.email_from, file_mode=subscription.file_mode)


def preview_digest(database: Database, subscription: SubscriptionConfig, fmt: str,
                   now: datetime, sources: Sequence[str] | None = None) -> Digest:
    """The digest ``subscription`` would receive now (reads only)."""
    topics = list(subscription.topics) or None
    with database.session() as session:
        pending = undelivered_matches(session, subscription.name, topics)
        since = last_sent_at(session, subscription.name)
        alerts = source_report(session, since or now - FIRST_LOOKBACK, now,
                               subscription.silent_after, sources)
        history = (delivered_matches(session, subscription.name, topics, FEED_WINDOW)
                   if fmt == "atom" else delivered_story_companions(session, subscription.name,
                                                                    pending))
        events = undelivered_events(session, subscription.name, topics)
    digest = build_digest(subscription.name, pending, now, subscription.timezone,
                          alerts=alerts, since=since, history=history)
    return replace(digest, changes=change_entries(events))


def run_digest(database: Database, subscription: SubscriptionConfig, channel: Channel,
               fmt: str, now: datetime, *, sources: Sequence[str] | None = None,
               dry_run: bool = False) -> DigestOutcome:
    """Send ``subscription`` its pending matches through ``channel`` as ``fmt``.

    ``sources`` are the configured source names, for the footer's source report.
    ``dry_run`` builds the digest and returns it without claiming, sending or marking.
    """
    def outcome(status: str, digest: Digest | None, held_until: datetime | None = None,
                error: str | None = None) -> DigestOutcome:
        return DigestOutcome(subscription.name, status, channel.name, fmt, digest,
                             held_until, error)

    if dry_run:
        return outcome("dry-run", preview_digest(database, subscription, fmt, now, sources))
    with database.session() as session, session.begin():
        run_id = claim_digest(session, subscription.name, channel.name, fmt, now)
    with database.session() as session, session.begin():
        other = competing_claim(session, subscription.name, run_id, now)
        while other is not None and claimant_is_gone(other):
            finish_digest(session, other.id, FAILED, now, error=f"process {other.pid} on "
                          f"{other.host} ended while sending; its matches stayed pending")
            other = competing_claim(session, subscription.name, run_id, now)
        if other is not None:
            error = f"digest run {other.id} started {other.started_at:%H:%M:%S} UTC is sending"
            finish_digest(session, run_id, BUSY, now, error=error)
            return outcome(BUSY, None, error=error)
    digest: Digest | None = None
    try:
        digest = preview_digest(database, subscription, fmt, now, sources)
        held_until = quiet_hours_end(subscription.quiet_hours, now, subscription.timezone)
        if digest.is_empty and not subscription.heartbeat:
            _finish(database, run_id, EMPTY, now, 0)
            return outcome(EMPTY, digest)
        if held_until is not None:
            _finish(database, run_id, HELD, now, len(digest.match_ids),
                    f"quiet hours until {held_until.isoformat()}")
            return outcome(HELD, digest, held_until)
        channel.send(digest, fmt)
    except DeliveryError as exc:
        _finish(database, run_id, FAILED, now, None, str(exc))
        return outcome(FAILED, digest, error=str(exc))
    except BaseException as exc:  # a bug or an interrupt: recorded, then raised
        _finish(database, run_id, FAILED, now, None, f"{type(exc).__name__}: {exc}")
        raise
    with database.session() as session, session.begin():
        mark_delivered(session, digest.match_ids, subscription.name, now)
        mark_events_delivered(session, digest.event_ids, subscription.name, now)
        finish_digest(session, run_id, SENT, now, matches=len(digest.match_ids))
    return outcome(SENT, digest)


def claimant_is_gone(claim: DigestRunRecord) -> bool:
    """Whether a ``sending`` claim was made on this host by a process that no longer
    runs: it crashed, and its claim need not wait for the lease to run out."""
    if claim.host != socket.gethostname() or claim.pid is None or claim.pid == os.getpid():
        return False
    try:
        os.kill(claim.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _finish(database: Database, run_id: int, status: str, now: datetime, matches: int | None,
            error: str | None = None) -> None:
    with database.session() as session, session.begin():
        finish_digest(session, run_id, status, now, matches=matches, error=error)
