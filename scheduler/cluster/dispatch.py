"""The runner side of the Celery executor: due jobs become broker messages.

:class:`CeleryDispatcher` stands where the local :class:`~scheduler.jobs.JobRunner`
stands in the service (the same methods), so APScheduler, the lease, the catch-up rule
and SIGHUP work unchanged; only "run the job" becomes "send it to the job kind's queue".

When the broker cannot take a message (down, unreachable, refusing the login) the
dispatcher logs one line for that attempt and *owes* the job: it tries again every
``retry_interval`` (one line per attempt) and, once the broker is back, sends each
owed job once, however many of its slots passed meanwhile — the same rule as the
catch-up after downtime. A runner stopped while it owes jobs loses nothing either:
no run was recorded, so the next runner's catch-up sends them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kombu import Connection

from newsmon.scheduler.cluster.app import make_app
from newsmon.scheduler.cluster.messages import TASK_NAME, JobRequest, all_queue_names, queue_name
from newsmon.scheduler.jobs import JobStarts, first_line, utc_now
from newsmon.scheduler.schedules import JobSpec, local_time

log = logging.getLogger("newsmon.run")

DEFAULT_RETRY_INTERVAL = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Owed:
    spec: JobSpec
    scheduled_for: datetime | None
    catch_up: bool


def redacted(url: str) -> str:
    """The broker URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


class CeleryDispatcher(JobStarts):
    """Sends jobs to the broker; the service's executor when ``executor = "celery"``."""

    def __init__(self, broker_url: str, queue_prefix: str, *, holder: str,
                 may_start: Callable[[datetime], bool],
                 clock: Callable[[], datetime] = utc_now,
                 retry_interval: timedelta = DEFAULT_RETRY_INTERVAL) -> None:
        super().__init__(holder=holder, may_start=may_start, clock=clock)
        self.broker_url = broker_url
        self.queue_prefix = queue_prefix
        self.app = make_app(broker_url, queue_prefix)
        self.retry_interval = retry_interval
        self._owed: dict[str, Owed] = {}
        self._closed = threading.Event()
        self._retrier = threading.Thread(target=self._retry_owed, name="newsmon-owed",
                                         daemon=True)
        self._retrier.start()

    # -- what the service asks (the JobRunner interface) ------------------------------

    def active(self) -> list[str]:
        return []  # jobs run on the workers; the runner waits for none of them

    def in_flight(self) -> int:
        return 0

    def wait_idle(self, timeout: timedelta) -> bool:
        return True

    def interrupt_all(self) -> None:
        """Nothing to end here: a job on a worker goes on; the runner only stops sending."""

    def owed(self) -> list[str]:
        with self._lock:
            return sorted(self._owed)

    def run(self, spec: JobSpec, scheduled_for: datetime | None = None) -> None:
        """Send ``spec`` for its slot (or owe it when the broker will not take it)."""
        now = self.clock()
        if (refusal := self.refusal(now)) is not None:
            log.warning("job %s not sent: %s", spec.job_id, refusal)
            return
        with self._lock:
            slot = self._catch_up.pop(spec.job_id, None)
        owed = Owed(spec, slot or scheduled_for, slot is not None)
        self._send_or_owe(owed, now)

    def close(self) -> None:
        self._closed.set()

    # -- sending ------------------------------------------------------------------------

    def _send_or_owe(self, owed: Owed, now: datetime) -> bool:
        spec = owed.spec
        request = JobRequest.for_spec(spec, scheduled_for=owed.scheduled_for,
                                      catch_up=owed.catch_up, sent_at=now, runner=self.holder)
        queue = queue_name(self.queue_prefix, spec.kind)
        try:
            result = self.app.send_task(TASK_NAME, args=[request.to_json()], queue=queue,
                                        retry=False)
        except Exception as exc:  # kombu raises OperationalError, OSError and others
            with self._lock:
                first = spec.job_id not in self._owed
                self._owed[spec.job_id] = owed  # a later slot replaces an earlier one
            log.error("job %s not sent: broker %s unreachable (%s); %s", spec.job_id,
                      redacted(self.broker_url), first_line(exc),
                      f"sending it once the broker is back (retrying every "
                      f"{self.retry_interval.total_seconds():g}s)" if first
                      else "still owed")
            return False
        with self._lock:
            self._owed.pop(spec.job_id, None)
        when = local_time(owed.scheduled_for, spec.timezone) if owed.scheduled_for else "now"
        log.info("job %s sent to %s: task %s, %s %s", spec.job_id, queue, result.id,
                 "catch-up for the run due" if owed.catch_up else "run due", when)
        return True

    def _retry_owed(self) -> None:
        while not self._closed.wait(self.retry_interval.total_seconds()):
            with self._lock:
                pending = list(self._owed.values())
            for owed in pending:
                now = self.clock()
                if self.refusal(now) is not None:
                    break
                if not self._send_or_owe(owed, now):
                    break  # the broker is still down: one line per attempt is enough


def queue_depths(broker_url: str, queue_prefix: str) -> dict[str, int]:
    """Messages waiting in each of the job queues (not counting those being run)."""
    depths: dict[str, int] = {}
    with Connection(broker_url, connect_timeout=3) as connection:
        connection.ensure_connection(max_retries=1)
        channel = connection.default_channel
        for name in all_queue_names(queue_prefix):
            try:
                declared = channel.queue_declare(queue=name, passive=True)
            except Exception:  # not declared yet: nobody sent or listened to it
                depths[name] = 0
                channel = connection.channel()
                continue
            depths[name] = int(declared.message_count)
    return depths
