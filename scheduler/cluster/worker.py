"""``newsmon worker``: a Celery worker that runs the jobs ``newsmon run`` sends.

Each message goes through three steps:

1. **Leases** (rows in ``runner_leases``, the runner lease's table and rules): the
   job's own lease ``job:crawl:NAME`` — one run of a job at a time in the whole
   cluster — and, for a crawl, one lease per host of the source's start URLs
   (``host:www.example.cn``). All are taken in one transaction or none is.
   Why a lease per host rather than a shared request budget: the crawl's own Scrapy
   settings (``download_delay``, ``concurrency_per_domain``) already hold one crawl
   to the host's limit, so letting one crawl at a time talk to a host keeps two
   sources on that host within the same limit, with one database write per job and
   its renewals instead of one per request, and without reaching into the crawler.
   What it costs: sources that share a host are crawled one after the other, which
   is the most a polite crawler may do there anyway. Different hosts run in parallel.
2. **Deciding** when a lease is taken by someone else: a fresh message for a job whose
   previous run still holds the job lease is dropped — the ``max_instances = 1`` rule
   of the local executor, logged as skipped. Otherwise (a host busy with another
   source, or a redelivered message whose dead worker's lease has not lapsed yet) the
   message goes back to the broker to be retried a few seconds later.
3. **Running**: the leases renewed every third of their lifetime, the job runs exactly
   as the local executor runs it — :class:`~scheduler.jobs.JobRunner`, its own child
   process with the time limit the runner gave it, one ``job_runs`` row naming this
   worker and the message. A lease that cannot be renewed ends the job (recorded
   ``interrupted``): another worker may take it over.

On taking a job's lease that lapsed, a worker marks the runs left ``running`` by the
worker that held it ``interrupted`` (and closes their crawl runs): that worker died,
and its message is the one being redelivered now.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.exceptions import Retry

from newsmon.config import Config
from newsmon.scheduler.cluster.app import make_app, register_job_task
from newsmon.scheduler.cluster.messages import JobRequest, queue_name
from newsmon.scheduler.jobs import (
    DEFAULT_CRAWL_TIMEOUT,
    DEFAULT_DIGEST_TIMEOUT,
    JobRunner,
    close_dead_run_crawls,
    first_line,
    utc_now,
)
from newsmon.scheduler.schedules import JobKind, JobSpec, job_specs
from newsmon.storage.engine import Database, database_lost
from newsmon.storage.jobruns import interrupt_dead_worker_runs, ran_since
from newsmon.storage.leases import release_leases, renew_leases, try_acquire_leases
from newsmon.storage.workers import beat, mark_stopped

log = logging.getLogger("newsmon.worker")

DEFAULT_LEASE_TTL = timedelta(seconds=30)
HEARTBEAT_INTERVAL = timedelta(seconds=5)
RETRY_SECONDS = 3.0  # a message waiting for a lease comes back this often


class JobFailed(Exception):
    """A job this worker could not run, with the reason (one line in the worker log)."""


class _Blocked(Exception):
    def __init__(self, lease: str) -> None:
        super().__init__(lease)
        self.lease = lease


def job_lease(job_id: str) -> str:
    return f"job:{job_id}"


def host_lease(host: str) -> str:
    return f"host:{host}"


def source_hosts(config: Config, spec: JobSpec) -> list[str]:
    """The hosts a job fetches from: a source's start URLs' hosts (none for a digest)."""
    if spec.kind is JobKind.DIGEST:
        return []
    try:
        source = config.source(spec.target)
    except ValueError:
        return []
    hosts = {(urlsplit(url).hostname or "").lower() for url in source.start_urls}
    return sorted(host for host in hosts if host)


def spec_for(request: JobRequest, config: Config) -> JobSpec:
    """The job as this worker's config knows it, with the runner's time limit."""
    timeout = timedelta(seconds=float(request.timeout_seconds))
    for spec in job_specs(config, crawl_timeout=DEFAULT_CRAWL_TIMEOUT,
                          digest_timeout=DEFAULT_DIGEST_TIMEOUT):
        if spec.job_id == request.job_id:
            return dataclasses.replace(spec, timeout=timeout)
    return JobSpec(JobKind(request.kind), request.target, "", config.settings.timezone,
                   timeout)


@dataclass
class WorkerOptions:
    concurrency: int = 2
    queues: tuple[str, ...] = ()  # job kinds; empty: all
    lease_ttl: timedelta = DEFAULT_LEASE_TTL


class WorkerRuntime:
    """One ``newsmon worker`` process: its name, heartbeat, leases and jobs."""

    def __init__(self, config: Config, database: Database, database_url: str,
                 broker_url: str, options: WorkerOptions) -> None:
        if config.path is None:
            raise ValueError("newsmon worker needs a config file (--config PATH)")
        self.config = config
        self.database = database
        self.database_url = database_url
        self.broker_url = broker_url
        self.options = options
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = f"newsmon-{self.pid}@{self.host}"
        prefix = config.settings.queue
        kinds = options.queues or tuple(kind.value for kind in JobKind)
        self.queues = [queue_name(prefix, JobKind(kind)) for kind in kinds]
        self._running = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._db_trouble: str | None = None

    # -- the Celery side ----------------------------------------------------------------

    def app(self) -> Celery:
        app = make_app(self.broker_url, self.config.settings.queue)
        register_job_task(app, self.handle, (JobFailed,))
        return app

    def serve(self) -> None:
        """Run the worker until SIGTERM (warm stop: running jobs finish) or SIGQUIT."""
        app = self.app()
        heart = threading.Thread(target=self._heartbeat, name="newsmon-heartbeat",
                                 daemon=True)
        self._beat_once()
        heart.start()
        log.info("newsmon worker %s: queues %s, %d job(s) at once, database %s",
                 self.name, ", ".join(self.queues), self.options.concurrency,
                 self.database.display_url)
        try:
            worker = app.Worker(hostname=self.name, pool="threads",
                                concurrency=self.options.concurrency, queues=self.queues,
                                without_mingle=True, without_gossip=True,
                                without_heartbeat=True, loglevel="INFO", quiet=True)
            worker.start()
        finally:
            self._stopped.set()
            self._mark_stopped()

    # -- one message ----------------------------------------------------------------------

    def handle(self, task: Any, message: dict[str, Any]) -> str:
        try:
            request = JobRequest.from_json(message)
        except ValueError as exc:
            raise JobFailed(f"malformed job message dropped: {exc}") from None
        redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
        if redelivered and not request.insist:
            request = request.insisting()
        spec = spec_for(request, self.config)
        leases = [job_lease(spec.job_id)] + [host_lease(h)
                                             for h in source_hosts(self.config, spec)]
        # The leases belong to this one execution, not to the worker: two jobs of one
        # worker must not share a host's lease (nor free it for each other).
        holder = f"{self.name}#{task.request.id}"
        try:
            served = self._acquire(leases, spec, datetime.fromisoformat(request.sent_at),
                                   holder)
        except _Blocked as blocked:
            return self._blocked(task, request, spec, blocked.lease)
        try:
            if served:
                log.info("job %s: dropped, a run of it started after this message was "
                         "sent (%s) and ended", spec.job_id, request.sent_at)
                return "coalesced"
            return self._run(task, request, spec, leases, holder)
        finally:
            self._release(leases, holder)

    def _blocked(self, task: Any, request: JobRequest, spec: JobSpec, lease: str) -> str:
        if lease == job_lease(spec.job_id) and not request.insist:
            log.warning("job %s: skipped, its previous run is still going (lease %s)",
                        spec.job_id, lease)
            return "skipped"
        log.info("job %s waits: lease %s is held; retrying in %gs", spec.job_id, lease,
                 RETRY_SECONDS)
        raise task.retry(args=[request.insisting().to_json()], countdown=RETRY_SECONDS,
                         max_retries=None)

    def _acquire(self, leases: list[str], spec: JobSpec, sent_at: datetime,
                 holder: str) -> bool:
        """Take the leases and close the runs of a dead holder; True when a run that
        began after ``sent_at`` already did the job (coalesce, as APScheduler does for
        a job that fell behind: a backlog of messages runs the job once, not once each).
        """
        now = utc_now()
        with self._database_errors(spec.job_id, "take its leases"), \
                self.database.session() as session, session.begin():
            blocked = try_acquire_leases(session, leases, holder, now,
                                         self.options.lease_ttl)
            if blocked is not None:  # leaving the block rolls back: no lease is kept
                raise _Blocked(blocked)
            for record in interrupt_dead_worker_runs(
                    session, job_id=spec.job_id, now=now,
                    detail="interrupted: its worker died or lost the database"):
                closed = close_dead_run_crawls(
                    session, record, now, "the worker running this crawl died before it ended")
                log.warning("job %s run %d on worker %s marked interrupted: that worker "
                            "stopped renewing its lease%s; running it again here",
                            spec.job_id, record.id, record.worker,
                            f"; {closed} crawl run(s) closed" if closed else "")
            return ran_since(session, spec.job_id, sent_at)

    def _run(self, task: Any, request: JobRequest, spec: JobSpec, leases: list[str],
             holder: str) -> str:
        runner = JobRunner(self.database, self.database_url, str(self.config.path),
                           holder=request.runner, may_start=lambda _now: True,
                           worker=self.name, task_id=str(task.request.id))
        slot = request.scheduled_time()
        if request.catch_up and slot is not None:
            runner.expect_catch_up(spec.job_id, slot)
        keeper = _LeaseKeeper(self, leases, holder, runner, spec.job_id)
        with self._counting():
            keeper.start()
            try:
                result = runner.run(spec, scheduled_for=slot)
            finally:
                keeper.stop()
        if result is None:
            raise JobFailed(f"job {spec.job_id} could not be run on {self.name}; "
                            "see the line above")
        return result.outcome.value

    def _release(self, leases: list[str], holder: str) -> None:
        try:
            with self.database.session() as session, session.begin():
                release_leases(session, leases, holder)
        except Exception as exc:  # they lapse on their own
            log.warning("could not release leases %s (%s); they lapse in %s",
                        ", ".join(leases), first_line(exc), self.options.lease_ttl)

    @contextmanager
    def _database_errors(self, job_id: str, doing: str) -> Iterator[None]:
        try:
            yield
        except (_Blocked, Retry):
            raise
        except Exception as exc:
            reason = database_lost(exc) or first_line(exc)
            raise JobFailed(f"job {job_id} failed on {self.name}: cannot reach the "
                            f"database {self.database.display_url} to {doing}: "
                            f"{reason}") from None

    @contextmanager
    def _counting(self) -> Iterator[None]:
        with self._lock:
            self._running += 1
        self._beat_once()
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
            self._beat_once()

    # -- heartbeat ------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_INTERVAL.total_seconds()):
            self._beat_once()

    def _beat_once(self) -> None:
        with self._lock:
            running = self._running
        try:
            with self.database.session() as session, session.begin():
                beat(session, name=self.name, host=self.host, pid=self.pid,
                     queues=",".join(self.queues), concurrency=self.options.concurrency,
                     jobs_running=running, now=utc_now())
        except Exception as exc:
            reason = database_lost(exc) or first_line(exc)
            if reason != self._db_trouble:
                log.error("worker %s: cannot write its heartbeat to %s: %s", self.name,
                          self.database.display_url, reason)
            self._db_trouble = reason
            return
        if self._db_trouble is not None:
            log.info("worker %s: database reachable again", self.name)
            self._db_trouble = None

    def _mark_stopped(self) -> None:
        try:
            with self.database.session() as session, session.begin():
                mark_stopped(session, self.name, utc_now())
        except Exception as exc:
            log.warning("worker %s: could not record its stop: %s", self.name,
                        first_line(exc))


class _LeaseKeeper:
    """Renews a running job's leases; ends the job if they cannot be kept."""

    def __init__(self, runtime: WorkerRuntime, leases: list[str], holder: str,
                 runner: JobRunner, job_id: str) -> None:
        self.runtime = runtime
        self.leases = leases
        self.holder = holder
        self.runner = runner
        self.job_id = job_id
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease {job_id}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _keep(self) -> None:
        ttl = self.runtime.options.lease_ttl
        held_until = utc_now() + ttl
        while not self._done.wait((ttl / 3).total_seconds()):
            now = utc_now()
            try:
                with self.runtime.database.session() as session, session.begin():
                    lost = renew_leases(session, self.leases, self.holder, now, ttl)
            except Exception as exc:
                if now < held_until - ttl / 3:
                    log.warning("job %s: could not renew its leases (%s); retrying",
                                self.job_id, first_line(exc))
                    continue
                lost = [f"all (database unreachable: {first_line(exc)})"]
            if not lost:
                held_until = now + ttl
                continue
            log.error("job %s: lost lease %s; ending the job so another worker can run it",
                      self.job_id, ", ".join(lost))
            self.runner.interrupt_all()
            return
