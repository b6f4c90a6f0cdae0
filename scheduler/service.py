"""``newsmon run``: the long-running scheduler service (APScheduler 3.x).

What it does, in order:

1. **Waits for the runner lease** (``scheduler/lease.py``): one service per database
   runs jobs; a second one logs who holds the lease and waits, and takes over once
   the holder stops renewing (killed, frozen, cut off from the database).
2. **Recovers**: job runs left ``running`` by a dead holder become ``interrupted``,
   and so do the ``crawl_runs`` rows of their child crawls.
3. **Schedules the config's jobs** — a crawl per source with a ``schedule``, a digest
   per subscription with one — and runs each missed job **once** (catch-up), then
   renews the lease every third of its lifetime until told to stop.
4. **Stops cleanly** on SIGTERM/SIGINT: no new jobs; running ones get the grace
   period, then are ended and recorded ``interrupted``. A second signal ends them at
   once. SIGHUP re-reads the config and reconciles the schedules in place.

Why the schedules live in a memory job store rebuilt from the config, not in
APScheduler's SQLAlchemyJobStore: the config file is the one place schedules are
written, so the job store holds exactly the config's jobs at every start (and after
SIGHUP) — an edited schedule takes effect and a removed one cannot run, because
nothing remembers it. A persistent store would keep pickled jobs (and their stale
triggers) across restarts, create its own table outside the migrations, and need
the same reconciliation anyway. What must survive a restart is when each job last
ran; that is the ``job_runs`` ledger, which the catch-up rule reads.

APScheduler settings, all explicit:

* ``coalesce=True`` — a job that fell behind (busy workers, a machine that slept)
  runs once for all the slots it missed, not once per slot;
* ``max_instances=1`` — a crawl still running when its next slot comes is not started
  twice (the late slot is logged as skipped);
* ``misfire_grace_time`` = 6 h by default, not APScheduler's 1 s, which silently
  drops a run that starts a second late (e.g. queued behind other jobs). A late
  crawl still fetches the news and a late digest still delivers, so the grace is
  long: longer than the default crawl time limit (a job queued behind busy workers
  still runs) and than a morning a laptop slept through; but finite, so a run that
  could not start for a quarter of a day is recorded ``missed`` (log and ledger)
  rather than firing at a surprising hour;
* the scheduler's time zone is the config's ``settings.timezone`` and every trigger
  carries its own zone (the source's or the subscription's), so run times never
  depend on the server's local zone.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from newsmon.config import Config, ConfigError
from newsmon.cron import ScheduleError
from newsmon.scheduler.jobs import (
    DEFAULT_CRAWL_TIMEOUT,
    DEFAULT_DIGEST_TIMEOUT,
    DEFAULT_KILL_GRACE,
    JobRunner,
    close_dead_run_crawls,
    first_line,
    last_run_of,
    utc_now,
)
from newsmon.scheduler.lease import DEFAULT_TTL, RunnerLease, make_holder_id
from newsmon.scheduler.schedules import (
    JobSpec,
    job_specs,
    latest_fire_at_or_before,
    local_time,
    missed_slot,
    next_fire_after,
    plan_reconcile,
)
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import interrupt_stale_job_runs, latest_job_runs, record_missed_run

if TYPE_CHECKING:
    from newsmon.scheduler.cluster.dispatch import CeleryDispatcher

log = logging.getLogger("newsmon.run")

LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 5


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """How the service runs jobs; the defaults are what ``newsmon run`` uses."""

    lease_ttl: timedelta = DEFAULT_TTL
    stop_grace: timedelta = timedelta(minutes=2)
    crawl_timeout: timedelta = DEFAULT_CRAWL_TIMEOUT
    digest_timeout: timedelta = DEFAULT_DIGEST_TIMEOUT
    max_parallel: int = 4
    misfire_grace: timedelta = timedelta(hours=6)
    kill_grace: timedelta = DEFAULT_KILL_GRACE
    broker_url: str = ""  # executor = "celery": where jobs are sent


class Service:
    """One ``newsmon run`` process: lease, schedules, jobs, signals."""

    def __init__(self, config: Config, database: Database, database_url: str,
                 options: ServiceOptions | None = None, *,
                 reload_config: Callable[[], Config] | None = None,
                 holder: str | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        if config.path is None:
            raise ConfigError("newsmon run needs a config file (--config PATH): the jobs "
                              "run `newsmon --config PATH crawl|digest` in child processes")
        self.config = config
        self.options = options = options or ServiceOptions()
        self.specs = self._specs(config)
        self.database = database
        self.clock = clock
        self._stop = threading.Event()
        self._force = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()
        self.holder = holder or make_holder_id()
        self.lease = RunnerLease(database, self.holder, options.lease_ttl)
        self.runner: JobRunner | CeleryDispatcher
        if config.settings.executor == "celery":  # jobs go to `newsmon worker`s
            from newsmon.scheduler.cluster.dispatch import CeleryDispatcher

            if not options.broker_url:
                raise ConfigError(f"{config.path}: executor = \"celery\" needs broker_url "
                                  "in [settings] or NEWSMON_BROKER_URL")
            self.runner = CeleryDispatcher(options.broker_url, config.settings.queue,
                                           holder=self.holder, may_start=self.lease.is_held,
                                           clock=clock)
        else:
            self.runner = JobRunner(database, database_url, str(config.path),
                                    holder=self.holder, may_start=self.lease.is_held,
                                    clock=clock, kill_grace=options.kill_grace,
                                    on_job_end=self._wake.set)
        self._reload_config = reload_config
        self._scheduled: dict[str, JobSpec] = {}
        self._signal_names: list[str] = []

    def _specs(self, config: Config) -> list[JobSpec]:
        return job_specs(config, crawl_timeout=self.options.crawl_timeout,
                         digest_timeout=self.options.digest_timeout)

    # -- control from outside (signal handlers, tests) ---------------------------------

    def request_stop(self, why: str = "stop requested") -> None:
        """First call: stop taking jobs, give running ones the grace period. Second: end
        them now."""
        self._signal_names.append(why)
        if self._stop.is_set():
            self._force.set()
        self._stop.set()
        self._wake.set()

    @property
    def stopped_by(self) -> tuple[str, ...]:
        """The names of the signals that asked the service to stop, first first."""
        return tuple(self._signal_names)

    def request_reload(self) -> None:
        self._reload.set()
        self._wake.set()

    def install_signal_handlers(self) -> None:
        def on_stop(signum: int, _frame: FrameType | None) -> None:
            self.request_stop(signal.Signals(signum).name)

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    # -- the main loop -----------------------------------------------------------------

    def run(self) -> None:
        """Serve until stopped: wait for the lease, run the jobs, stop cleanly."""
        log.info("newsmon run starting as %s on %s; config %s; %d scheduled job(s)",
                 self.holder, self.database.display_url, self.config.path, len(self.specs))
        try:
            while not self._stop.is_set():
                if not self._wait_for_lease():
                    break
                self._serve()
        finally:
            self._release_lease()
            log.info("newsmon run stopped (%s)", ", ".join(self._signal_names) or "done")

    def _pause(self, seconds: float) -> None:
        self._wake.wait(max(seconds, 0.05))
        self._wake.clear()

    def _wait_for_lease(self) -> bool:
        """Block until this process holds the lease (True) or is told to stop (False)."""
        reported: str | None = None
        while not self._stop.is_set():
            now = self.clock()
            try:
                if self.lease.try_acquire(now):
                    log.info("lease acquired: %s runs the jobs of this database (lease "
                             "lifetime %s, renewed every %s)", self.holder, self.lease.ttl,
                             self.lease.renew_interval)
                    return True
                current = self.lease.current()
            except Exception as exc:
                log.warning("cannot take the runner lease (database error: %s); retrying",
                            first_line(exc))
                self._pause(self.lease.renew_interval.total_seconds())
                continue
            wait = self.lease.renew_interval
            if current is not None:
                if current.holder != reported:
                    log.warning("waiting: another newsmon run holds the runner lease on this "
                                "database (holder %s, renewed %s, expires %s); taking over if "
                                "it stops renewing", current.holder,
                                _utc(current.renewed_at), _utc(current.expires_at))
                    reported = current.holder
                # Wake just after the expiry, so a dead holder is replaced within its
                # lease lifetime, not a polling interval later.
                wait = min(wait, max(current.expires_at - now, timedelta(0))
                           + timedelta(milliseconds=50))
            self._pause(wait.total_seconds())
        return False

    def _serve(self) -> None:
        """Run the schedules while the lease is held; returns on stop or lease loss."""
        scheduler = self._build_scheduler()
        self.runner.stopping.clear()
        self._scheduled = {}
        try:
            self._recover()
            self._reconcile(scheduler, self.specs, catch_up=True)
        except Exception as exc:  # database trouble: try again, still holding the lease
            log.error("could not start the schedules (%s); retrying", first_line(exc))
            self._pause(self.lease.renew_interval.total_seconds())
            return
        scheduler.start()
        lost = False
        try:
            while not self._stop.is_set():
                self._pause(self.lease.renew_interval.total_seconds())
                if self._stop.is_set():
                    break
                if self._reload.is_set():
                    self._reload.clear()
                    self._reload_schedules(scheduler)
                if not self._renew():
                    lost = True
                    break
        finally:
            scheduler.shutdown(wait=False)  # takes no new jobs; running ones go on
            self.runner.stopping.set()
            self._finish_running_jobs(lease_lost=lost)

    # -- lease -------------------------------------------------------------------------

    def _renew(self) -> bool:
        now = self.clock()
        try:
            if self.lease.renew(now):
                return True
        except Exception as exc:
            if self.lease.is_held(now):
                log.warning("could not renew the runner lease (database error: %s); "
                            "retrying until it lapses at %s", first_line(exc),
                            _utc(self.lease.held_until))
                return True
            log.error("runner lease lapsed: not renewed since before %s (%s); ending jobs",
                      _utc(self.lease.held_until), first_line(exc))
            return False
        current = self._current_holder()
        log.error("runner lease lost: %s holds it now; ending jobs and waiting", current)
        return False

    def _current_holder(self) -> str:
        try:
            state = self.lease.current()
        except Exception:
            return "another runner"
        return state.holder if state is not None else "nobody"

    def _release_lease(self) -> None:
        if self.lease.held_until is None:
            return
        try:
            self.lease.release()
            log.info("runner lease released")
        except Exception as exc:
            log.warning("could not release the runner lease (%s); it lapses on its own",
                        first_line(exc))

    # -- recovery and stopping ---------------------------------------------------------

    def _recover(self) -> None:
        """Close what a dead runner left ``running``: its job runs and their crawl runs."""
        now = self.clock()
        with self.database.session() as session, session.begin():
            stale = interrupt_stale_job_runs(
                session, holder=self.holder, now=now,
                detail="interrupted: its runner died or was killed before the job ended")
            for record in stale:
                closed = close_dead_run_crawls(
                    session, record, now, "the scheduler running this crawl died before it ended")
                log.warning("job %s run %d (started %s by %s) marked interrupted: its "
                            "runner died before it ended%s", record.job_id, record.id,
                            _utc(record.started_at), record.holder,
                            f"; {closed} crawl run(s) closed" if closed else "")

    def _finish_running_jobs(self, lease_lost: bool) -> None:
        if lease_lost:
            self.runner.interrupt_all()
        elif self.runner.in_flight():
            self._drain()
        self.runner.wait_idle(self.options.kill_grace + timedelta(seconds=10))

    def _drain(self) -> None:
        """Let running jobs finish within the grace period, keeping the lease meanwhile."""
        deadline = self.clock() + self.options.stop_grace
        log.info("%s: stopping; no new jobs; waiting up to %s for %s",
                 ", ".join(self._signal_names) or "stop requested", self.options.stop_grace,
                 ", ".join(self.runner.active()) or "jobs starting")
        while self.runner.in_flight() and not self._force.is_set():
            remaining = deadline - self.clock()
            if remaining <= timedelta(0):
                break
            self._pause(min(remaining, self.lease.renew_interval).total_seconds())
            if not self._renew():
                break
        if self.runner.in_flight():
            log.warning("stopping: ending %s now; recorded as interrupted",
                        ", ".join(self.runner.active()) or "jobs")
            self.runner.interrupt_all()

    # -- schedules ---------------------------------------------------------------------

    def _build_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            timezone=ZoneInfo(self.config.settings.timezone),
            executors={"default": ThreadPoolExecutor(self.options.max_parallel)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.options.misfire_grace.total_seconds()),
            },
        )
        scheduler.add_listener(self._on_event,
                               EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        return scheduler

    def _reconcile(self, scheduler: BackgroundScheduler, specs: list[JobSpec],
                   catch_up: bool) -> None:
        """Make the scheduler hold exactly ``specs``; on start, owe missed runs once."""
        now = self.clock()
        plan = plan_reconcile(self._scheduled, specs)
        for job_id in plan.remove:
            scheduler.remove_job(job_id)
            log.info("job %s removed: no longer scheduled in the config", job_id)
        with self.database.session() as session:
            last = latest_job_runs(session, [s.job_id for s in specs])
        for spec in (*plan.add, *plan.replace):
            trigger = spec.trigger()
            slot = missed_slot(trigger, last_run_of(last.get(spec.job_id)), now) \
                if catch_up else None
            extra: dict[str, Any] = {}
            if slot is not None:
                self.runner.expect_catch_up(spec.job_id, slot)
                extra["next_run_time"] = now
            scheduler.add_job(self._run_job, trigger=trigger, args=[spec], id=spec.job_id,
                              name=spec.job_id, replace_existing=True, **extra)
            upcoming = next_fire_after(trigger, now)
            log.info("job %s %s: %r in %s; next run %s%s", spec.job_id,
                     "rescheduled" if spec in plan.replace else "scheduled", spec.schedule,
                     spec.timezone, local_time(upcoming, spec.timezone),
                     f"; catching up now for the run due {local_time(slot, spec.timezone)}"
                     if slot is not None else "")
        self._scheduled = {spec.job_id: spec for spec in specs}

    def _reload_schedules(self, scheduler: BackgroundScheduler) -> None:
        if self._reload_config is None:
            log.warning("SIGHUP: this service cannot re-read its config; restart it")
            return
        try:
            config = self._reload_config()
            specs = self._specs(config)
        except (ConfigError, ScheduleError) as exc:
            log.error("SIGHUP: config not reloaded, schedules unchanged: %s", exc)
            return
        log.info("SIGHUP: config re-read from %s", config.path)
        self.config, self.specs = config, specs
        self._reconcile(scheduler, specs, catch_up=False)

    def _run_job(self, spec: JobSpec) -> None:
        """What APScheduler calls: the fire time this run is for, then the job."""
        trigger = spec.trigger()
        scheduled = latest_fire_at_or_before(trigger, self.clock(), self.options.misfire_grace)
        self.runner.run(spec, scheduled_for=scheduled)

    def _on_event(self, event: JobEvent) -> None:
        spec = self._scheduled.get(event.job_id)
        zone = spec.timezone if spec else self.config.settings.timezone
        if event.code == EVENT_JOB_MISSED:
            due = event.scheduled_run_time
            log.warning("job %s missed its run due %s: it could not start within the "
                        "misfire grace of %s", event.job_id, local_time(due, zone),
                        self.options.misfire_grace)
            self._record_missed(event.job_id, due)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            times = getattr(event, "scheduled_run_times", None) or [None]
            log.warning("job %s: run due %s skipped, its previous run is still going "
                        "(max_instances=1)", event.job_id, local_time(times[-1], zone))
        elif event.code == EVENT_JOB_ERROR:
            log.error("job %s failed inside the scheduler: %r", event.job_id,
                      getattr(event, "exception", None))

    def _record_missed(self, job_id: str, due: datetime) -> None:
        try:
            with self.database.session() as session, session.begin():
                record_missed_run(session, job_id, scheduled_for=due, now=self.clock(),
                                  holder=self.holder, host=self.runner.host,
                                  detail=f"not started within {self.options.misfire_grace}")
        except Exception as exc:
            log.error("job %s: could not record the missed run: %s", job_id, first_line(exc))


def schedule_table(specs: list[JobSpec], now: datetime) -> list[dict[str, object]]:
    """Rows for ``newsmon run --dry-run``: each job, its schedule and next run."""
    return [{"job": spec.job_id, "schedule": spec.schedule, "timezone": spec.timezone,
             "next run": local_time(next_fire_after(spec.trigger(), now), spec.timezone),
             "time limit": str(spec.timeout)}
            for spec in specs]


def configure_logging(log_file: Path, verbose: int = 0) -> None:
    """The service logs to stderr and to a rotating file (5 × 5 MB), one line per event.

    APScheduler's own INFO lines ("Running job …") and its skip/miss warnings repeat
    ours, so it logs other warnings only, unless ``-vv``.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    formatter = _LocalTimeFormatter("%(asctime)s %(levelname)s %(message)s")
    stderr = logging.StreamHandler()
    rotating = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
    root = logging.getLogger()
    for handler in (stderr, rotating):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    apscheduler = logging.getLogger("apscheduler")
    apscheduler.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(name).addFilter(_said_by_us)


def _said_by_us(record: logging.LogRecord) -> bool:
    """Drop APScheduler's warnings for skipped and missed runs: the service logs each
    one itself, naming the job and the local time of the run (and records misses)."""
    message = record.getMessage()
    return not ("maximum number of running instances reached" in message
                or "was missed by" in message)


class _LocalTimeFormatter(logging.Formatter):
    """ISO 8601 local time with its UTC offset: unambiguous in a log read later."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")


def _utc(moment: datetime | None) -> str:
    return "?" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"
