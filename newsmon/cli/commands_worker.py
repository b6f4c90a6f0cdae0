"""``newsmon worker``: run the jobs a ``newsmon run`` with ``executor = "celery"`` sends."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta
from typing import Any

import click

from newsmon.cli.commands_run import Duration
from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import Section, local_time
from newsmon.config import resolve_broker_url

# `newsmon status` lists the workers whose heartbeat is at most this old.
WORKERS_SEEN_WITHIN = timedelta(hours=1)
# A worker that beat within this long is "up"; its heartbeat comes every 5 s.
WORKER_ALIVE_WITHIN = timedelta(seconds=30)


def _kinds(value: str) -> tuple[str, ...]:
    from newsmon.scheduler.schedules import JobKind

    known = {kind.value for kind in JobKind}
    kinds = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [kind for kind in kinds if kind not in known]
    if unknown or not kinds:
        raise click.UsageError(f"--queues: unknown job kind {', '.join(unknown) or value!r} "
                               f"(known: {', '.join(sorted(known))})")
    return kinds


@click.command("worker")
@click.option("--concurrency", "-c", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Jobs this worker runs at once (each in its own process).")
@click.option("--queues", "-Q", default=None, metavar="KIND,…",
              help="Only these job kinds, e.g. crawl [default: every kind].")
@click.option("--lease", "lease_ttl", type=Duration(), default="30s", show_default=True,
              help="Lifetime of a job's leases; another worker reruns the job of a dead "
              "one this long after it stopped renewing them.")
@pass_app
def command(app: AppContext, concurrency: int, queues: str | None,
            lease_ttl: timedelta) -> None:
    """Run crawls and digests sent by `newsmon run` through the broker (Celery).

    Start one or more on any machine that reaches the broker and the database;
    the config's [settings] executor = "celery" and broker_url (or
    NEWSMON_BROKER_URL) say where. Each job runs as its own `newsmon crawl` or
    `newsmon digest` process with the time limit the runner gave it, and is
    recorded in the job ledger with this worker's name. SIGTERM: take no new
    jobs, let running ones finish; a second SIGTERM ends them (they run again
    on another worker).

    \b
    Example:
      NEWSMON_BROKER_URL=amqp://guest:guest@broker:5672// \\
        newsmon --db postgresql://news@db/news --config sites.toml worker -c 4
      newsmon --config sites.toml worker --queues crawl
    """
    from newsmon.scheduler.cluster.worker import WorkerOptions, WorkerRuntime

    config = app.config
    if config.path is None:
        raise click.UsageError("newsmon worker needs a config file (--config PATH): its "
                               "jobs run `newsmon --config PATH crawl|digest`")
    broker = resolve_broker_url(config.settings)
    if not broker:
        raise click.UsageError(f"{config.path}: no broker: set [settings] broker_url or "
                               "NEWSMON_BROKER_URL (amqp://… or redis://…)")
    kinds = _kinds(queues) if queues else ()
    logging.basicConfig(level=logging.DEBUG if app.verbose >= 2 else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    # Opened lazily: a worker started while the database is down stays up, and fails
    # each job it is sent with the reason until the database is back.
    runtime = WorkerRuntime(config, app.open_database(), app.database_url, broker,
                            WorkerOptions(concurrency=concurrency, queues=kinds,
                                          lease_ttl=lease_ttl))
    runtime.serve()


# -- `newsmon status` section (listed in commands_status.SECTIONS) -----------------------


def workers_section(app: AppContext, now: datetime) -> Section:
    """``newsmon status``: the workers seen within the last hour (host, pid, jobs running,
    last heartbeat) and the messages waiting in each job queue."""
    from newsmon.storage.workers import workers_seen_since

    settings = app.config.settings
    with app.database.session() as session:
        workers = workers_seen_since(session, now - WORKERS_SEEN_WITHIN)
    zone = settings.timezone
    records: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for worker in workers:
        state = ("stopped" if worker.stopped_at is not None else
                 "up" if now - worker.last_seen <= WORKER_ALIVE_WITHIN else "silent")
        records.append({"name": worker.name, "host": worker.host, "pid": worker.pid,
                        "queues": worker.queues.split(","), "state": state,
                        "concurrency": worker.concurrency,
                        "jobs_running": worker.jobs_running, "started_at": worker.started_at,
                        "last_heartbeat": worker.last_seen})
        rows.append({"worker": worker.name, "host": worker.host, "pid": worker.pid,
                     "state": state, "jobs": f"{worker.jobs_running}/{worker.concurrency}",
                     "last heartbeat": local_time(worker.last_seen, zone, seconds=True)})
    queues = _queue_records(settings.queue, resolve_broker_url(settings)) \
        if settings.executor == "celery" else []
    for queue in queues:
        rows.append({"worker": f"queue {queue['queue']}", "state": queue["state"],
                     "jobs": queue["waiting"] if queue["waiting"] is not None else "-"})
    if not rows and settings.executor == "celery":
        rows.append({"worker": "no newsmon worker seen in the last hour", "state": "-"})
    return Section("workers", "Workers (newsmon worker)", records + queues, rows,
                   ["worker", "host", "pid", "state", "jobs", "last heartbeat"])


def _queue_records(prefix: str, broker: str) -> list[dict[str, Any]]:
    from newsmon.scheduler.cluster.dispatch import queue_depths, redacted

    try:
        depths = queue_depths(broker, prefix)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [{"queue": prefix + ".*", "waiting": None,
                 "state": f"broker {redacted(broker)} unreachable: {reason}"}]
    return [{"queue": name, "waiting": waiting, "state": "waiting"}
            for name, waiting in depths.items()]
