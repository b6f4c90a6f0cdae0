"""``newsmon crawl``: crawl the configured sources, then match new articles."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from newsmon.cli.context import AppContext, DatabaseUnavailable, WorkFailed, pass_app
from newsmon.cli.exitcodes import EXIT_ERRORS, exit_code_for_signal
from newsmon.cli.output import render_table
from newsmon.config import Config, ConfigError, SourceConfig
from newsmon.jobresult import CrawlResult, write_result
from newsmon.outcomes import describe_outcomes
from newsmon.storage.engine import DatabaseError
from newsmon.values import CrawlStats


def select_sources(config: Config, names: Sequence[str]) -> list[SourceConfig]:
    """The sources named on the command line (all when none are named)."""
    if not config.sources:
        where = config.path or "no config file given"
        raise click.UsageError(f"{where}: no sources configured; pass --config FILE "
                               "(see README, 'Configuration')")
    try:
        return [config.source(name) for name in names] if names else list(config.sources)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def summary_rows(results: Sequence[CrawlStats]) -> list[dict[str, object]]:
    return [
        {"source": r.source, "pages": r.pages, "304": r.not_modified, "new": r.new_articles,
         "updated": r.updated_articles, "unchanged": r.unchanged_articles,
         "known, skipped": r.skipped_known, "errors": r.error_count,
         "error kinds": ", ".join(f"{k}×{v}" for k, v in sorted(r.errors.items())),
         "finish": r.finish_reason}
        for r in results
    ]


def outcome_lines(results: Sequence[CrawlStats]) -> list[str]:
    """Per source, what became of every page its lists, feeds and sitemaps linked to."""
    return [f"{r.source}: {r.linked_pages} linked page{'' if r.linked_pages == 1 else 's'}: "
            f"{describe_outcomes(r.outcomes)}" for r in results]


@click.command("crawl")
@click.option("--source", "-s", "sources", multiple=True, metavar="NAME",
              help="Crawl only this source (repeatable). Default: all configured sources.")
@click.option("--progress/--no-progress", default=None,
              help="Show a live progress line on stderr [default: when stderr is a terminal].")
@click.option("--result-file", type=click.Path(dir_okay=False, path_type=Path), hidden=True,
              help="Write the totals here as JSON (for `newsmon run`, which reads them).")
@pass_app
def command(app: AppContext, sources: tuple[str, ...], progress: bool | None,
            result_file: Path | None) -> None:
    """Crawl the configured sources into the database, then match topics.

    List pages, feeds and sitemaps lead to article pages; each article is
    extracted, cleaned, normalised and upserted by canonical URL (crawling the
    same pages twice adds nothing). Prints a summary per source; exits 1 if any
    source had errors (each error is logged on stderr with its URL). Ctrl-C stops
    the crawl cleanly (runs recorded "interrupted", exit 130; SIGTERM: 143); topics
    are then matched by the next crawl.

    \b
    Example:
      newsmon --config sites.toml crawl
      newsmon --config sites.toml crawl --source dzwww --source bandao
    """
    from newsmon.crawler.errors import DATABASE_FAILURES  # imports scrapy: kept lazy
    from newsmon.crawler.runner import CrawlInterrupted, run_crawl
    from newsmon.scheduler.matchjobs import match_pending

    config = app.config
    chosen = select_sources(config, sources)
    database = app.database  # migrate before the crawl, and fail early if unusable
    try:
        database.check_writable()  # not after every page was fetched
    except DatabaseError as exc:
        raise DatabaseUnavailable(f"{exc}; nothing crawled") from None
    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        results = run_crawl(config, app.database_url, chosen, progress=show_progress,
                            verbosity=app.verbose)
    except CrawlInterrupted as stop:
        # Stored articles are kept; matching them waits for the next crawl, so a stop
        # asked for by the user (or the service) is not held up by it.
        totals = crawl_result(stop.results, None, 0)
        _report(stop.results, totals, result_file)
        click.echo(f"newsmon: interrupted ({signal.Signals(stop.signum).name}); the runs "
                   "are recorded as interrupted", err=True)
        sys.exit(exit_code_for_signal(stop.signum))
    if DATABASE_FAILURES:
        unmatched = replace(crawl_result(results, None, 0), stopped_by="database unavailable")
        _report(results, unmatched, result_file)
        raise DatabaseUnavailable(f"database unavailable during crawl: {DATABASE_FAILURES[0]}")
    matched = match_pending(database, datetime.now(UTC), config.settings.backfill_window)
    _report(results, crawl_result(results, matched.new_matches, matched.flagged), result_file)
    if any(r.error_count for r in results):
        sys.exit(EXIT_ERRORS)


def crawl_result(results: Sequence[CrawlStats], new_matches: int | None,
                 flagged: int) -> CrawlResult:
    """The crawl's totals (``new_matches`` None: topics were not matched)."""
    return CrawlResult(pages=sum(r.pages for r in results),
                       new_articles=sum(r.new_articles for r in results),
                       errors=sum(r.error_count for r in results),
                       skipped_known=sum(r.skipped_known for r in results),
                       new_matches=new_matches, flagged=flagged)


def _report(results: Sequence[CrawlStats], totals: CrawlResult, result_file: Path | None
            ) -> None:
    """The summary for people on stdout; the totals for ``newsmon run`` in its file."""
    print_summary(results, totals)
    if result_file is not None:
        try:
            write_result(result_file, totals)
        except OSError as exc:
            raise WorkFailed(f"{result_file}: {exc.strerror or exc}") from None


def print_summary(results: Sequence[CrawlStats], totals: CrawlResult) -> None:
    """The per-source table, each source's linked pages, and the totals line."""
    rows = summary_rows(results)
    click.echo(render_table(rows, list(rows[0])), nl=False)
    for line in outcome_lines(results):
        click.echo(line)
    click.echo(totals.summary())
