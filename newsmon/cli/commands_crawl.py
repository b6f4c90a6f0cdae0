"""``newsmon crawl``: crawl the configured sources, then match new articles."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import click

from newsmon.cli.context import AppContext, DatabaseUnavailable, pass_app
from newsmon.cli.exitcodes import EXIT_ERRORS, exit_code_for_signal
from newsmon.cli.output import render_table
from newsmon.config import Config, ConfigError, SourceConfig
from newsmon.outcomes import describe_outcomes
from newsmon.values import CrawlStats
from storage.engine import DatabaseError


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
@pass_app
def command(app: AppContext, sources: tuple[str, ...], progress: bool | None) -> None:
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
    from crawler.errors import DATABASE_FAILURES  # imports scrapy: kept lazy
    from crawler.runner import CrawlInterrupted, run_crawl
    from scheduler.matchjobs import match_pending

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
        print_summary(stop.results, "topics not matched (interrupted)")
        click.echo(f"newsmon: interrupted ({signal.Signals(stop.signum).name}); the runs "
                   "are recorded as interrupted", err=True)
        sys.exit(exit_code_for_signal(stop.signum))
    if DATABASE_FAILURES:
        print_summary(results, "topics not matched (database unavailable)")
        raise DatabaseUnavailable(f"database unavailable during crawl: {DATABASE_FAILURES[0]}")
    matched = match_pending(database, datetime.now(UTC), config.settings.backfill)
    print_summary(results, f"{matched.new_matches} new topic matches "
                           f"({matched.flagged} flagged for the digest)")
    if any(r.error_count for r in results):
        sys.exit(EXIT_ERRORS)


def print_summary(results: Sequence[CrawlStats], matching: str) -> None:
    """The per-source table and the totals line (the scheduler reads the latter)."""
    rows = summary_rows(results)
    click.echo(render_table(rows, list(rows[0])), nl=False)
    for line in outcome_lines(results):
        click.echo(line)
    click.echo(f"{sum(r.pages for r in results)} pages, "
               f"{sum(r.new_articles for r in results)} new articles, "
               f"{sum(r.error_count for r in results)} errors, "
               f"{sum(r.skipped_known for r in results)} known links skipped; {matching}")
