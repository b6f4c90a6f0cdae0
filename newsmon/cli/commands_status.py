"""``newsmon status``: did the crawls work? One section per part of newsmon.

The crawl section shows the last run of every source (pages, new / updated / known
articles, 304s, errors by kind, duration, finish reason) and flags sources that
failed or have found nothing new for longer than usual (``newsmon/status.py``).

Sections are built by the functions in :data:`SECTIONS`; a part of newsmon that has
something to report (the scheduler's next runs, say) adds a function there. With
``--json`` the output is one object with a key per section.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click

from newsmon.app import reading
from newsmon.cli.commands_revisit import watch_section
from newsmon.cli.commands_run import runner_section, schedule_section
from newsmon.cli.commands_worker import workers_section
from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.exitcodes import EXIT_ERRORS
from newsmon.cli.output import Section, dumps, local_time, render_table
from newsmon.status import status_record
from newsmon.timefmt import format_duration


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def crawl_section(app: AppContext, now: datetime) -> Section:
    zone = app.config.settings.timezone
    configured = [source.name for source in app.config.sources]
    statuses = reading.source_statuses(app.database, configured, now)
    records = [status_record(status) for status in statuses]
    rows = []
    for status, record in zip(statuses, records, strict=True):
        run = record["last_run"] or {}
        last = status.last
        rows.append({
            "source": status.source,
            "last run": local_time(last.started_at, zone) if last else "never",
            "status": run.get("status", "-"),
            "took": _duration(run.get("duration_seconds")),
            "pages": run.get("pages", ""), "new": run.get("new", ""),
            "updated": run.get("updated", ""), "known": run.get("skipped_known", ""),
            "304": run.get("not_modified", ""),
            "errors": ", ".join(f"{k}×{v}" for k, v in run.get("errors", {}).items()),
            "finish": run.get("finish_reason") or "",
            "flags": ", ".join(status.flags),
        })
    failing = any(flag.startswith("failed") for s in statuses for flag in s.flags)
    columns = ["source", "last run", "status", "took", "pages", "new", "updated", "known",
               "304", "errors", "finish", "flags"]
    return Section("sources", "Crawls", records, rows, columns, failing)


# The sections of `newsmon status`, in order.
SECTIONS: list[Callable[[AppContext, datetime], Section]] = [
    crawl_section, schedule_section, runner_section, workers_section, watch_section]


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, a key per section.")
@pass_app
def command(app: AppContext, as_json: bool) -> None:
    """Show the last crawl of each source and flag the ones that look wrong.

    A source is flagged "failed" when its last run crashed, timed out or fetched
    nothing but errors, "interrupted" when it was stopped (Ctrl-C, the service),
    "errors" when some requests failed, and "quiet" when it has found nothing new
    for longer than usual. Exits 1 when a source is flagged "failed".

    \b
    Example:
      newsmon --config sites.toml status
      newsmon status --json
    """
    now = datetime.now(UTC)
    sections = [build(app, now) for build in SECTIONS]
    if as_json:
        click.echo(dumps({section.key: section.records for section in sections}))
    else:
        for section in sections:
            if not section.rows:  # e.g. no workers with the local executor
                continue
            click.echo(f"== {section.title}")
            click.echo(render_table(section.rows, section.columns), nl=False)
    if any(section.failing for section in sections):
        sys.exit(EXIT_ERRORS)
