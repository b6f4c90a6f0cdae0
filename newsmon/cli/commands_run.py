"""``newsmon run``: the scheduler service — crawls and digests on their schedules."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.exitcodes import EXIT_INTERRUPTED
from newsmon.cli.output import Section, local_time, render_table
from newsmon.config import ConfigError, default_data_dir, load_config, resolve_broker_url

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600}


class Duration(click.ParamType[timedelta]):
    """``90`` or ``90s``, ``5m``, ``1h`` -> timedelta."""

    name = "duration"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _DURATION.match(str(value))
        if not match or float(match.group(1)) <= 0:
            self.fail(f"{value!r} is not a positive duration (e.g. 30s, 5m, 1h)", param, ctx)
        return timedelta(seconds=float(match.group(1)) * _UNIT[(match.group(2) or "s").lower()])


def default_log_file() -> Path:
    return default_data_dir() / "logs" / "newsmon-run.log"


@click.command("run")
@click.option("--lease", "lease_ttl", type=Duration(), default="60s", show_default=True,
              help="Lifetime of the runner lease; a second `newsmon run` takes over this "
              "long after the first stops renewing it.")
@click.option("--grace", "stop_grace", type=Duration(), default="2m", show_default=True,
              help="On SIGTERM/SIGINT, how long running jobs may take to finish before "
              "they are ended and recorded as interrupted.")
@click.option("--crawl-timeout", type=Duration(), default="1h", show_default=True,
              help="Time limit of one scheduled crawl.")
@click.option("--digest-timeout", type=Duration(), default="10m", show_default=True,
              help="Time limit of one scheduled digest.")
@click.option("--max-parallel", type=click.IntRange(min=1), default=4, show_default=True,
              help="Jobs running at the same time (each is its own process).")
@click.option("--log-file", type=click.Path(path_type=Path), default=None,
              help="Rotating log file [default: logs/newsmon-run.log in the data directory].")
@click.option("--dry-run", is_flag=True,
              help="Print the jobs the config schedules and their next run times, then exit.")
@pass_app
def command(app: AppContext, lease_ttl: timedelta, stop_grace: timedelta,
            crawl_timeout: timedelta, digest_timeout: timedelta, max_parallel: int,
            log_file: Path | None, dry_run: bool) -> None:
    """Run crawls and digests on their schedules until stopped (SIGTERM or Ctrl-C).

    Exits 0 when stopped by SIGTERM, 130 after Ctrl-C (SIGINT).

    Each source with a `schedule` is crawled on it (cron, in the source's time
    zone) and each subscription with a `schedule` gets its digest; every job runs
    in its own process with a time limit. One `newsmon run` per database runs
    jobs: a second one waits and takes over if the first dies. A crawl missed
    while no runner was up runs once on start. SIGHUP re-reads the schedules.
    Logs go to stderr and to a rotating file.

    \b
    Example:
      newsmon --config sites.toml run
      newsmon --config sites.toml run --dry-run
      newsmon --config sites.toml run --lease 30s --grace 5m --crawl-timeout 30m
    """
    from newsmon.cron import ScheduleError
    from newsmon.scheduler.jobs import utc_now
    from newsmon.scheduler.service import Service, ServiceOptions, configure_logging, schedule_table

    config = app.config
    options = ServiceOptions(lease_ttl=lease_ttl, stop_grace=stop_grace,
                             crawl_timeout=crawl_timeout, digest_timeout=digest_timeout,
                             max_parallel=max_parallel,
                             broker_url=resolve_broker_url(config.settings))
    try:
        service = Service(config, app.database, app.database_url, options,
                          reload_config=lambda: load_config(config.path))
    except (ConfigError, ScheduleError) as exc:
        raise click.UsageError(str(exc)) from None
    if not service.specs:
        raise click.UsageError(f"{config.path}: nothing to run: give a source or a "
                               "subscription a schedule, e.g. schedule = \"0 7 * * *\"")
    if dry_run:
        rows = schedule_table(service.specs, utc_now())
        click.echo(render_table(rows, list(rows[0])), nl=False)
        return
    configure_logging(log_file or default_log_file(), app.verbose)
    service.install_signal_handlers()
    service.run()
    if service.stopped_by[:1] == ("SIGINT",):  # Ctrl-C; SIGTERM is a normal service stop
        sys.exit(EXIT_INTERRUPTED)


# -- `newsmon status` sections (listed in commands_status.SECTIONS) ---------------------


def schedule_section(app: AppContext, now: datetime) -> Section:
    """``newsmon status``: each scheduled job, its next run (local time with zone) and
    how its last run ended."""
    from newsmon.cron import ScheduleError
    from newsmon.scheduler.jobs import job_statuses

    columns = ["job", "schedule", "next run", "last run", "last result"]
    try:
        statuses = job_statuses(app.database, app.config, now)
    except ScheduleError as exc:
        record = {"job": None, "error": str(exc)}
        return Section("schedules", "Schedules (newsmon run)", [record],
                       [{"job": "-", "last result": str(exc)}], columns, failing=True)
    records = [{
        "job": s.job_id, "schedule": s.schedule, "timezone": s.timezone,
        "next_run": s.next_run, "next_run_local": s.next_run_local,
        "last_run": None if s.last is None else {
            "status": s.last.status, "started_at": s.last.started_at,
            "finished_at": s.last.finished_at, "exit_code": s.last.exit_code,
            "catch_up": s.last.catch_up, "detail": s.last.detail},
    } for s in statuses]
    rows = [{"job": s.job_id, "schedule": f"{s.schedule} ({s.timezone})",
             "next run": _local_seconds(s.next_run, s.timezone),
             "last run": _local_seconds(s.last.started_at if s.last else None, s.timezone),
             "last result": s.last_result_short} for s in statuses]
    return Section("schedules", "Schedules (newsmon run)", records, rows, columns)


def runner_section(app: AppContext, now: datetime) -> Section:
    """``newsmon status``: which ``newsmon run`` holds the runner lease, if any."""
    from newsmon.scheduler.jobs import runner_lease

    lease = runner_lease(app.database)
    zone = app.config.settings.timezone
    if lease is None:
        record: dict[str, Any] = {"holder": None, "live": False}
        row = {"runner": "no newsmon run holds the lease", "state": "-"}
    else:
        live = lease.is_live(now)
        record = {"holder": lease.holder, "live": live, "acquired_at": lease.acquired_at,
                  "renewed_at": lease.renewed_at, "expires_at": lease.expires_at}
        state = (f"running; lease renewed {local_time(lease.renewed_at, zone)}" if live
                 else f"stopped; lease lapsed {local_time(lease.expires_at, zone)}")
        row = {"runner": lease.holder, "state": state}
    return Section("runner", "Runner (newsmon run)", [record], [row], ["runner", "state"])


def _local_seconds(moment: datetime | None, zone: str) -> str:
    """``2024-05-01 07:00:00 CST``: seconds matter for second-level schedules."""
    return local_time(moment, zone, seconds=True, missing="-")
