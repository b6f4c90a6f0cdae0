"""Schedules as values: which jobs the config asks for, their triggers, catch-up.

Everything here is pure: the config and "now" go in, values come out, so the
time-zone, catch-up and reconcile rules are tested without a clock or a database.

Cron expressions are the standard five fields (minute hour day-of-month month
day-of-week) or six with a leading seconds field (used by the tests to fire every few
seconds). Two places where APScheduler 3.x differs from cron are corrected here,
because both silently give wrong run times:

* day-of-week numbers: APScheduler counts 0 = Monday, cron 0 (and 7) = Sunday; numbers
  are translated to day names before they reach APScheduler;
* day-of-month *and* day-of-week both restricted: cron runs on either, APScheduler
  only on days matching both; such schedules become an ``OrTrigger`` of the two.

Each trigger carries its own time zone (the source's, or the subscription's), so
"0 7 * * *" means 07:00 where the news is published, whatever the server's zone.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from newsmon.config import Config
from newsmon.cron import ScheduleError, parse_cron
from newsmon.timefmt import local_time as shared_local_time

NOT_DONE_STATUSES = frozenset({"interrupted", "missed"})


class JobKind(enum.Enum):
    CRAWL = "crawl"
    DIGEST = "digest"
    REVISIT = "revisit"  # re-visits of watched articles (settings.revisit_schedule)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One scheduled job as the config asks for it.

    ``job_id`` (``crawl:NAME`` / ``digest:NAME``) is also the key of the job ledger,
    so renaming a source starts a fresh history.
    """

    kind: JobKind
    target: str
    schedule: str
    timezone: str
    timeout: timedelta
    where: str = ""  # "FILE:LINE: source 'x'" for messages

    @property
    def job_id(self) -> str:
        return f"{self.kind.value}:{self.target}"

    def trigger(self) -> BaseTrigger:
        try:
            return parse_cron(self.schedule, self.timezone)
        except ScheduleError as exc:
            raise ScheduleError(f"{self.where or self.job_id}: {exc}") from None


@dataclass(frozen=True, slots=True)
class LastRun:
    """What the job ledger says about a job's newest run."""

    started_at: datetime
    status: str
    scheduled_for: datetime | None = None


def next_fire_after(trigger: BaseTrigger, moment: datetime) -> datetime | None:
    """The first fire time strictly after ``moment`` (None if the schedule has ended)."""
    fire: datetime | None = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
    return fire


def latest_fire_at_or_before(trigger: BaseTrigger, moment: datetime, horizon: timedelta
                             ) -> datetime | None:
    """The newest fire time in ``(moment - horizon, moment]``, or None.

    APScheduler 3 cannot step backwards, so this looks back over windows that double
    from one second: the first window holding a fire time holds few of them, and
    stepping forward through those is cheap even for every-second schedules.
    """
    span = timedelta(seconds=1)
    while True:
        fire = next_fire_after(trigger, moment - min(span, horizon))
        if fire is not None and fire <= moment:
            while (later := next_fire_after(trigger, fire)) is not None and later <= moment:
                fire = later
            return fire
        if span >= horizon:
            return None
        span *= 2


def missed_slot(trigger: BaseTrigger, last: LastRun | None, now: datetime) -> datetime | None:
    """The fire time a job missed while no runner was up, or None if it missed none.

    A job that never ran has missed nothing (its first run is its next fire time). A
    job whose newest run was interrupted (the service stopped or died) or missed owes
    that run. Otherwise it missed a slot if one fell between its last start and
    ``now``; however many slots fell there, the answer is one run (the first slot is
    returned), which is what "catch up once, not once per slot" means.
    """
    if last is None:
        return None
    if last.status in NOT_DONE_STATUSES:
        return last.scheduled_for or last.started_at
    fire = next_fire_after(trigger, last.started_at)
    return fire if fire is not None and fire <= now else None


def job_specs(config: Config, *, crawl_timeout: timedelta, digest_timeout: timedelta
              ) -> list[JobSpec]:
    """Every job the config schedules: one per source and subscription with a
    ``schedule``; raises :class:`ScheduleError` (naming file and line) on a bad one."""
    path = config.path or "<no config>"
    specs = [
        JobSpec(JobKind.CRAWL, source.name, source.schedule, source.timezone, crawl_timeout,
                where=f"{path}:{source.line}: source {source.name!r}")
        for source in config.sources if source.schedule
    ] + [
        JobSpec(JobKind.DIGEST, sub.name, sub.schedule, sub.timezone, digest_timeout,
                where=f"{path}:{sub.line}: subscription {sub.name!r}")
        for sub in config.subscriptions if sub.schedule
    ]
    if config.settings.revisit_schedule:
        specs.append(JobSpec(JobKind.REVISIT, "all", config.settings.revisit_schedule,
                             config.settings.timezone, crawl_timeout,
                             where=f"{path}: settings 'revisit_schedule'"))
    for spec in specs:
        spec.trigger()  # validate every schedule before anything runs
    return specs


@dataclass(frozen=True, slots=True)
class ReconcilePlan:
    """How to turn the jobs a scheduler has into the jobs the config wants."""

    add: tuple[JobSpec, ...] = ()
    replace: tuple[JobSpec, ...] = ()
    remove: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()


def plan_reconcile(current: Mapping[str, JobSpec], wanted: Sequence[JobSpec]) -> ReconcilePlan:
    """Jobs to add, replace (schedule, zone or limit edited), remove and keep."""
    wanted_by_id = {spec.job_id: spec for spec in wanted}
    return ReconcilePlan(
        add=tuple(s for s in wanted if s.job_id not in current),
        replace=tuple(s for s in wanted if s.job_id in current and current[s.job_id] != s),
        remove=tuple(sorted(job_id for job_id in current if job_id not in wanted_by_id)),
        keep=tuple(s.job_id for s in wanted if current.get(s.job_id) == s),
    )


def local_time(moment: datetime | None, timezone: str) -> str:
    """``2024-05-01 07:00:00 CST (Asia/Shanghai)``: local time with its zone."""
    if moment is None:
        return "never"
    return f"{shared_local_time(moment, timezone, seconds=True)} ({timezone})"
