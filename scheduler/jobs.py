"""Scheduled jobs: each crawl or digest runs as its own ``newsmon`` child process.

A crawl needs a fresh process because the Twisted reactor cannot be restarted; a
child also isolates memory and crashes from the long-running service, and gives the
time limit teeth (it can be killed). The job is the same command a user would type:
``python -m newsmon --config PATH crawl --source NAME --no-progress`` or
``… digest --subscription NAME``, with the database URL in ``NEWSMON_DB`` and the
hidden ``--result-file PATH``: the child writes how the run went there as JSON
(:mod:`newsmon.jobresult`), which the runner reads instead of the printed text.

Around the child, :class:`JobRunner` keeps the job ledger (``job_runs``: start,
outcome, exit status, duration), logs one line when a job starts and one when it ends
with its outcome, and closes the ``crawl_runs`` rows a crawl could not close itself
(killed at its time limit, crashed, or interrupted by a stop) with the reason.

Children are started in their own session (a Ctrl-C in the terminal reaches only the
service, which decides how to stop them) and, on Linux, with a parent-death signal so
a ``kill -9`` of the service takes its children down too instead of leaving orphan
crawls writing beside the next runner.
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from newsmon.cli.exitcodes import EXIT_ERRORS, EXIT_OK, exit_code_for_signal
from newsmon.config import Config
from newsmon.jobresult import JobReport, ResultFileError, read_result
from newsmon.scheduler.lease import LEASE_NAME
from newsmon.scheduler.schedules import (
    JobKind,
    JobSpec,
    LastRun,
    job_specs,
    local_time,
    next_fire_after,
)
from newsmon.storage.engine import Database, Session
from newsmon.storage.jobruns import (
    JobRunRecord,
    close_child_crawl_runs,
    finish_job_run,
    latest_job_runs,
    set_job_child,
    start_job_run,
)
from newsmon.storage.leases import LeaseState, read_lease

log = logging.getLogger("newsmon.run")

DEFAULT_CRAWL_TIMEOUT = timedelta(hours=1)
DEFAULT_DIGEST_TIMEOUT = timedelta(minutes=10)
# After SIGTERM a crawl closes its spider and writes its run row; this long at most.
DEFAULT_KILL_GRACE = timedelta(seconds=15)


def utc_now() -> datetime:
    return datetime.now(UTC)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type when it has none), for one log line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Outcome(enum.Enum):
    """How a job ended (the ``status`` of its ``job_runs`` row)."""

    OK = "ok"  # EXIT_OK
    ERRORS = "errors"  # EXIT_ERRORS: the work ran, some part failed (e.g. a source errored)
    FAILED = "failed"  # any other exit code (bad config, database unusable, …)
    CRASHED = "crashed"  # killed by a signal the service did not send
    TIMEOUT = "timeout"  # ended by the service at its time limit
    INTERRUPTED = "interrupted"  # ended by the service stopping (or losing the lease)


# What a crawl's unfinished crawl_runs rows become after each outcome (None: leave).
CRAWL_RUN_STATUS = {
    Outcome.OK: None,
    Outcome.ERRORS: None,
    Outcome.FAILED: "crashed",
    Outcome.CRASHED: "crashed",
    Outcome.TIMEOUT: "timeout",
    Outcome.INTERRUPTED: "interrupted",
}


# `newsmon crawl` stopped cleanly by SIGINT or SIGTERM (128 + the signal's number).
INTERRUPTED_EXIT_CODES = frozenset(exit_code_for_signal(s) for s in (signal.SIGINT,
                                                                     signal.SIGTERM))


def classify_exit(returncode: int, *, timed_out: bool, interrupted: bool,
                  traceback: bool = False) -> Outcome:
    """The outcome of a child that exited with ``returncode`` (negative: signal).

    Python also exits 1 on an unhandled exception; with a traceback in the output
    that is a failure of the command, not a run that went through with errors.
    """
    if interrupted:
        return Outcome.INTERRUPTED
    if timed_out:
        return Outcome.TIMEOUT
    if returncode in INTERRUPTED_EXIT_CODES:  # stopped by a signal it handled (Ctrl-C, TERM)
        return Outcome.INTERRUPTED
    if returncode == EXIT_OK:
        return Outcome.OK
    if returncode == EXIT_ERRORS:
        return Outcome.FAILED if traceback else Outcome.ERRORS
    if returncode < 0:
        return Outcome.CRASHED
    return Outcome.FAILED


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


def child_argv(spec: JobSpec, config_path: str, result_file: Path,
               python: str = sys.executable) -> list[str]:
    """The ``newsmon`` command line a job runs; it writes its result to ``result_file``.

    The database URL goes to the child in ``NEWSMON_DB`` (:func:`child_env`), not on
    the command line, where any local user could read a password in it (``ps``).
    """
    base = [python, "-m", "newsmon", "--config", config_path]
    if spec.kind is JobKind.CRAWL:
        command = ["crawl", "--source", spec.target, "--no-progress"]
    elif spec.kind is JobKind.REVISIT:
        command = ["revisit"]
    else:
        command = ["digest", "--subscription", spec.target]
    return [*base, *command, "--result-file", str(result_file)]


def read_job_report(path: Path) -> JobReport | None:
    """What the child wrote to its result file; None (with a warning) if nothing usable."""
    try:
        return read_result(path)
    except ResultFileError as exc:
        log.warning("%s", exc)
        return None


def child_env(database_url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: ours, the database URL, UTF-8 unbuffered output."""
    return {**environ, "NEWSMON_DB": database_url, "PYTHONIOENCODING": "utf-8",
            "PYTHONUNBUFFERED": "1"}


def _parent_death_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGKILL the child when its parent thread dies.

    The job thread that starts a child waits for it, so the signal fires only when the
    whole service is gone (``kill -9``). Elsewhere: None, and a killed service's
    children finish on their own (their runs are still closed by the next runner).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl
    pr_set_pdeathsig = 1

    def hook() -> None:  # runs in the child between fork and exec: nothing fancy here
        prctl(pr_set_pdeathsig, signal.SIGKILL)

    return hook


_DIE_WITH_PARENT = _parent_death_hook()


@dataclass
class RunningChild:
    spec: JobSpec
    process: subprocess.Popen[str]
    started_at: datetime
    result_file: Path
    interrupted: bool = False
    tracebacks: list[str] = field(default_factory=list)  # the last line of each one


@dataclass(frozen=True, slots=True)
class JobResult:
    job_id: str
    run_id: int
    outcome: Outcome
    returncode: int
    duration: timedelta
    summary: str
    report: JobReport | None = None  # what the child wrote to its result file


class JobStarts:
    """When a job may start and which slot it is for: what the local :class:`JobRunner`
    and the Celery dispatcher share.

    ``may_start(now)`` is asked before each start (the service passes "do I still hold
    the lease?"); ``stopping`` is set while the service stops.
    """

    def __init__(self, *, holder: str, may_start: Callable[[datetime], bool],
                 clock: Callable[[], datetime]) -> None:
        self.holder = holder
        self.host = socket.gethostname()
        self.may_start = may_start
        self.clock = clock
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._catch_up: dict[str, datetime] = {}

    def expect_catch_up(self, job_id: str, slot: datetime) -> None:
        """The next run of ``job_id`` makes up for ``slot``, missed during downtime."""
        with self._lock:
            self._catch_up[job_id] = slot

    def refusal(self, now: datetime) -> str | None:
        """Why no job may start at ``now``, or None when one may."""
        if self.stopping.is_set():
            return "the service is stopping"
        if not self.may_start(now):
            return "this runner does not hold the lease"
        return None


class JobRunner(JobStarts):
    """Runs jobs in child processes, one ledger row each; safe to call from many threads.

    :meth:`interrupt_all` ends every running child for a stop.
    """

    def __init__(self, database: Database, database_url: str, config_path: str, *,
                 holder: str, may_start: Callable[[datetime], bool],
                 clock: Callable[[], datetime] = utc_now, python: str = sys.executable,
                 kill_grace: timedelta = DEFAULT_KILL_GRACE,
                 on_job_end: Callable[[], None] = lambda: None,
                 worker: str | None = None, task_id: str | None = None) -> None:
        super().__init__(holder=holder, may_start=may_start, clock=clock)
        self.database = database
        # A `newsmon worker` (Celery executor) runs jobs with this same code; its run
        # rows name it and the broker message they came from.
        self.worker = worker
        self.task_id = task_id
        self.database_url = database_url
        self.config_path = config_path
        self.python = python
        self.kill_grace = kill_grace
        self.on_job_end = on_job_end
        self._running: dict[str, RunningChild] = {}
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)

    # -- what the service asks -------------------------------------------------------

    def active(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def interrupt_all(self) -> None:
        """End every running child: SIGTERM (a crawl then closes its spider and run
        row), SIGKILL after the kill grace; each is recorded as interrupted."""
        with self._lock:
            children = list(self._running.values())
        for child in children:
            child.interrupted = True
            _signal(child.process, signal.SIGTERM)
        deadline = self.clock() + self.kill_grace
        for child in children:
            remaining = max((deadline - self.clock()).total_seconds(), 0.0)
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _signal(child.process, signal.SIGKILL)

    # -- running one job -------------------------------------------------------------

    def run(self, spec: JobSpec, scheduled_for: datetime | None = None) -> JobResult | None:
        """Run ``spec`` once in a child process; None when it was not started."""
        with self._lock:
            self._in_flight += 1
        try:
            return self._run_guarded(spec, scheduled_for)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
            self.on_job_end()

    def in_flight(self) -> int:
        """Jobs inside :meth:`run` (starting, running or recording their end)."""
        with self._lock:
            return self._in_flight

    def wait_idle(self, timeout: timedelta) -> bool:
        """Wait until no job is in flight; False if some still are after ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout.total_seconds())

    def _run_guarded(self, spec: JobSpec, scheduled_for: datetime | None) -> JobResult | None:
        now = self.clock()
        if (refusal := self.refusal(now)) is not None:
            log.warning("job %s not started: %s", spec.job_id, refusal)
            return None
        with self._lock:
            if spec.job_id in self._running:
                log.warning("job %s not started: its previous run is still going",
                            spec.job_id)
                return None
            slot = self._catch_up.pop(spec.job_id, None)
        scheduled = slot or scheduled_for
        try:
            return self._run_child(spec, now, scheduled, catch_up=slot is not None)
        except Exception:
            log.exception("job %s could not be run", spec.job_id)
            return None

    def _run_child(self, spec: JobSpec, now: datetime, scheduled: datetime | None,
                   catch_up: bool) -> JobResult:
        with self.database.session() as session, session.begin():
            run_id = start_job_run(session, spec.job_id, scheduled_for=scheduled,
                                   started_at=now, holder=self.holder, host=self.host,
                                   catch_up=catch_up, worker=self.worker,
                                   task_id=self.task_id)
        with tempfile.TemporaryDirectory(prefix="newsmon-job-") as results:
            try:
                child = self._spawn(spec, now, Path(results) / "result.json")
            except OSError as exc:
                return self._record_unstartable(spec, run_id, now, exc)
            try:
                self._note_child(run_id, child.process.pid)
                log.info("job %s started: run %d, pid %d, %s", spec.job_id, run_id,
                         child.process.pid, _why(spec, scheduled, catch_up))
                returncode, timed_out = self._wait(child)
            finally:
                with self._lock:
                    self._running.pop(spec.job_id, None)
            report = read_job_report(child.result_file)
        return self._record_end(spec, run_id, child, returncode, timed_out, report)

    def _note_child(self, run_id: int, pid: int) -> None:
        try:
            with self.database.session() as session, session.begin():
                set_job_child(session, run_id, pid)
        except Exception as exc:  # the job still runs; only the pid link is missing
            log.warning("run %d: could not record child pid %d: %s", run_id, pid, exc)

    def _record_unstartable(self, spec: JobSpec, run_id: int, now: datetime,
                            exc: OSError) -> JobResult:
        detail = f"could not start {self.python} -m newsmon: {exc}"
        with self.database.session() as session, session.begin():
            finish_job_run(session, run_id, finished_at=self.clock(),
                           status=Outcome.FAILED.value, exit_code=None, detail=detail)
        log.error("job %s ended: failed (%s)", spec.job_id, detail)
        return JobResult(spec.job_id, run_id, Outcome.FAILED, -1, self.clock() - now, detail)

    def _spawn(self, spec: JobSpec, now: datetime, result_file: Path) -> RunningChild:
        process = subprocess.Popen(
            child_argv(spec, self.config_path, result_file, self.python),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace",
            env=child_env(self.database_url, os.environ),
            start_new_session=True, preexec_fn=_DIE_WITH_PARENT)
        child = RunningChild(spec, process, now, result_file)
        with self._lock:
            self._running[spec.job_id] = child
        return child

    def _wait(self, child: RunningChild) -> tuple[int, bool]:
        readers = [
            threading.Thread(target=_pump, args=(stream, child), daemon=True)
            for stream in (child.process.stdout, child.process.stderr)
        ]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            child.process.wait(timeout=child.spec.timeout.total_seconds())
        except subprocess.TimeoutExpired:
            if child.interrupted:  # a stop is already ending it (SIGKILL after the grace)
                child.process.wait()
            else:
                timed_out = True
                log.warning("job %s reached its time limit of %s; ending it",
                            child.spec.job_id, child.spec.timeout)
                _end(child.process, self.kill_grace)
        for reader in readers:
            reader.join(timeout=5)
        return child.process.returncode, timed_out

    def _record_end(self, spec: JobSpec, run_id: int, child: RunningChild, returncode: int,
                    timed_out: bool, report: JobReport | None) -> JobResult:
        finished = self.clock()
        outcome = classify_exit(returncode, timed_out=timed_out, interrupted=child.interrupted,
                                traceback=bool(child.tracebacks))
        summary = report.summary()[:300] if report is not None else (
            child.tracebacks[-1][:300] if child.tracebacks else "")
        reason = _crawl_reason(outcome, spec, returncode)
        detail = "; ".join(part for part in (describe_exit(returncode), summary, reason)
                           if part)
        with self.database.session() as session, session.begin():
            finish_job_run(session, run_id, finished_at=finished, status=outcome.value,
                           exit_code=returncode, detail=detail[:1000])
            crawl_status = CRAWL_RUN_STATUS[outcome]
            if spec.kind is JobKind.CRAWL and crawl_status is not None:
                close_child_crawl_runs(session, host=self.host, pid=child.process.pid,
                                       since=child.started_at, status=crawl_status,
                                       reason=reason, now=finished)
        duration = finished - child.started_at
        level = logging.INFO if outcome in (Outcome.OK,) else logging.WARNING
        log.log(level, "job %s ended: %s (%s) in %.1fs%s", spec.job_id, outcome.value,
                describe_exit(returncode), duration.total_seconds(),
                f" — {summary}" if summary else "")
        return JobResult(spec.job_id, run_id, outcome, returncode, duration, summary, report)


def _why(spec: JobSpec, scheduled: datetime | None, catch_up: bool) -> str:
    when = local_time(scheduled, spec.timezone)
    if catch_up:
        return f"catch-up for the run due {when}, missed while no runner was up"
    return f"scheduled {when}" if scheduled else "started by hand"


def _crawl_reason(outcome: Outcome, spec: JobSpec, returncode: int) -> str:
    if outcome is Outcome.TIMEOUT:
        return f"time limit of {spec.timeout} reached; ended by the scheduler"
    if outcome is Outcome.INTERRUPTED:
        return "the scheduler stopped before the crawl ended"
    if outcome in (Outcome.CRASHED, Outcome.FAILED):
        return f"the crawl process ended without closing its run ({describe_exit(returncode)})"
    return ""


def close_dead_run_crawls(session: Session, record: JobRunRecord, now: datetime,
                          reason: str) -> int:
    """Mark ``interrupted`` the crawl runs that the child of a job run whose runner died
    left open; how many. A run that never recorded its child has none to close."""
    if record.pid is None or record.host is None:
        return 0
    return close_child_crawl_runs(session, host=record.host, pid=record.pid,
                                  since=record.started_at, status="interrupted",
                                  reason=reason, now=now)


def _pump(stream: IO[str] | None, child: RunningChild) -> None:
    """Copy a child's output into the service log, one line per line, noting the
    exception that ends each Python traceback."""
    if stream is None:
        return
    in_traceback = False
    for line in stream:
        text = line.rstrip("\n")
        if text.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and text and not text[0].isspace():
            child.tracebacks.append(text)  # "ValueError: …", the line that names it
            in_traceback = False
        if text.strip():
            log.info("%s | %s", child.spec.job_id, text)
    stream.close()


def _signal(process: subprocess.Popen[str], signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # exited between poll and kill
            process.send_signal(signum)


def _end(process: subprocess.Popen[str], grace: timedelta) -> None:
    """SIGTERM, then SIGKILL if the child is still there after ``grace``."""
    _signal(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace.total_seconds())
    except subprocess.TimeoutExpired:
        _signal(process, signal.SIGKILL)
        process.wait()


# -- what `newsmon status` shows ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One scheduled job for ``newsmon status``: when it runs next, how it last went."""

    job_id: str
    schedule: str
    timezone: str
    next_run: datetime | None
    last: JobRunRecord | None

    @property
    def next_run_local(self) -> str:
        return local_time(self.next_run, self.timezone)

    @property
    def last_result_short(self) -> str:
        """``ok — 14 pages, 7 new articles, …`` (the status and the run's summary)."""
        if self.last is None:
            return "never ran"
        summary = "; ".join(part for part in (self.last.detail or "").split("; ")
                            if not part.startswith("exit "))
        return f"{self.last.status} — {summary}" if summary else self.last.status


def job_statuses(database: Database, config: Config, now: datetime) -> list[JobStatus]:
    """Every job the config schedules, with its next run after ``now`` and last run."""
    specs = job_specs(config, crawl_timeout=DEFAULT_CRAWL_TIMEOUT,
                      digest_timeout=DEFAULT_DIGEST_TIMEOUT)
    with database.session() as session:
        last = latest_job_runs(session, [s.job_id for s in specs])
    return [JobStatus(spec.job_id, spec.schedule, spec.timezone,
                      next_fire_after(spec.trigger(), now), last.get(spec.job_id))
            for spec in specs]


def runner_lease(database: Database) -> LeaseState | None:
    """Who holds the runner lease (``newsmon run``), if anyone ever did."""
    with database.session() as session:
        return read_lease(session, LEASE_NAME)


def last_run_of(record: JobRunRecord | None) -> LastRun | None:
    """The ledger row as the catch-up rule reads it."""
    if record is None:
        return None
    return LastRun(record.started_at, record.status, record.scheduled_for)
