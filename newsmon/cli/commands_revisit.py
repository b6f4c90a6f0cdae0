"""``newsmon revisit``: look at watched articles again for edits and takedowns."""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from newsmon.cli.commands_crawl import select_sources
from newsmon.cli.context import AppContext, DatabaseUnavailable, pass_app, write_result_file
from newsmon.cli.exitcodes import exit_code_for_signal
from newsmon.cli.output import Section, local_time
from newsmon.jobresult import RevisitResult
from newsmon.storage.engine import DatabaseError
from newsmon.versions import describe_outcome_counts


@click.command("revisit")
@click.option("--source", "-s", "sources", multiple=True, metavar="NAME",
              help="Re-visit only this source's articles (repeatable). Default: all.")
@click.option("--limit", type=click.IntRange(1, 100000), default=None, metavar="N",
              help="At most N re-visits this run [default: revisit_batch, 200].")
@click.option("--result-file", type=click.Path(dir_okay=False, path_type=Path), hidden=True,
              help="Write the totals here as JSON (for `newsmon run`, which reads them).")
@pass_app
def command(app: AppContext, sources: tuple[str, ...], limit: int | None,
            result_file: Path | None) -> None:
    """Re-visit watched articles that are due: record edits and takedowns.

    Articles that matched a topic are watched (a source's `watch = "all"` watches
    all of its articles, `"off"` none) and fetched again at the offsets of
    `revisit_after` after they were first seen (1h, 6h, 1d, 3d, 7d). A changed
    title, body, 来源, author or time is stored as a new version; a 404/410, a
    redirect to the home page or a "页面不存在" page is a takedown; a 5xx or timeout
    is not (several in a row: "unreachable"). Prints the counts per outcome.

    \b
    Example:
      newsmon --config sites.toml revisit
      newsmon --config sites.toml revisit --source dzwww --limit 50
    """
    from newsmon.app.revisit import RevisitRecorder, finish_run, plan_revisits
    from newsmon.crawler.revisit import RevisitInterrupted, run_revisits  # imports scrapy: lazy

    config = app.config
    chosen = select_sources(config, sources)
    database = app.database
    try:
        database.check_writable()
    except DatabaseError as exc:
        raise DatabaseUnavailable(f"{exc}; nothing re-visited") from None
    now = datetime.now(UTC)
    plan = plan_revisits(database, config, now, limit=limit or config.settings.revisit_batch,
                         sources=[s.name for s in chosen] if sources else None)
    recorder = RevisitRecorder(database, config, plan.run_id)
    try:
        run_revisits(config, app.database_url, plan.batches, recorder,
                     log_level="DEBUG" if app.verbose >= 2 else "WARNING")
    except RevisitInterrupted as stop:
        recorder.flush()
        finish_run(database, plan.run_id, "interrupted", recorder.outcomes, datetime.now(UTC))
        _report(plan.due, plan.enrolled, recorder, result_file)
        click.echo(f"newsmon: interrupted ({signal.Signals(stop.signum).name})", err=True)
        sys.exit(exit_code_for_signal(stop.signum))
    recorder.flush()
    finish_run(database, plan.run_id, "finished", recorder.outcomes, datetime.now(UTC))
    _report(plan.due, plan.enrolled, recorder, result_file)


def _report(due: int, enrolled: int, recorder: object, result_file: Path | None) -> None:
    from newsmon.app.revisit import RevisitRecorder

    assert isinstance(recorder, RevisitRecorder)
    result = RevisitResult(due=due, enrolled=enrolled, outcomes=dict(recorder.outcomes),
                           new_matches=recorder.new_matches)
    click.echo(f"re-visited {sum(recorder.outcomes.values())} of {due} due: "
               f"{describe_outcome_counts(recorder.outcomes)}; {enrolled} newly watched; "
               f"{recorder.new_matches} new topic matches")
    write_result_file(result_file, result)


def watch_section(app: AppContext, now: datetime) -> Section:
    """``newsmon status``: the watch queue (due now, due later, finished) and the last
    re-visit run with its counts per outcome."""
    from newsmon.storage.watch import revisit_runs, watch_queue

    zone = app.config.settings.timezone
    with app.database.session() as session:
        queue = watch_queue(session, now)
        runs = revisit_runs(session, limit=1)
    last = runs[0] if runs else None
    record: dict[str, Any] = {
        "due_now": queue.due_now, "due_later": queue.due_later, "finished": queue.finished,
        "next_due": queue.next_due, "taken_down": queue.taken_down,
        "unreachable": queue.unreachable,
        "last_run": None if last is None else {
            "id": last.id, "started_at": last.started_at, "finished_at": last.finished_at,
            "status": last.status, "due": last.due, "outcomes": last.outcomes}}
    # Six columns at most, so the table fits a 60-column terminal: the next due time
    # goes beside the count of those due later.
    later = str(queue.due_later) + (f" (next {local_time(queue.next_due, zone)})"
                                    if queue.next_due else "")
    row = {"due now": queue.due_now, "due later": later,
           "finished": queue.finished, "taken down": queue.taken_down,
           "unreachable": queue.unreachable,
           "last re-visit": "never" if last is None else
           f"{local_time(last.started_at, zone)} {last.status}: "
           f"{describe_outcome_counts(last.outcomes)}"}
    return Section("watch", "Watch queue (re-visits for edits and takedowns)", [record],
                   [row], list(row))
