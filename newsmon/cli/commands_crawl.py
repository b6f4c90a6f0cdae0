"""``newsmon crawl``: crawl the configured sources, then match new articles."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from newsmon.cli.context import AppContext, DatabaseUnavailable, pass_app, write_result_file
from newsmon.cli.exitcodes import EXIT_ERRORS, exit_code_for_signal
from newsmon.cli.output import render_table
from newsmon.config import Config, SourceConfig
from newsmon.jobresult import CrawlResult
from newsmon.outcomes import describe_outcomes
from newsmon.storage.engine import DatabaseError
from newsmon.values import CrawlStats


def select_sources(config: Config, names: Sequence[str]) -> list[SourceConfig]:
    """The sources named on the command line (all when none are named); an unknown
    name is a :class:`ConfigError` naming the configured ones."""
    if not config.sources:
        where = config.path or "no config file given"
        raise click.UsageError(f"{where}: no sources configured; pass --config FILE "
                               "(see README, 'Configuration')")
    return [config.source(name) for name in names] if names else list(config.sources)


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
    from newsmon.app.crawling import crawl_and_match  # imports scrapy: kept lazy

    chosen = select_sources(app.config, sources)
    database = app.database  # migrate before the crawl, and fail early if unusable
    show_progress = sys.stderr.isatty() if progress is None else progress
    try:
        outcome = crawl_and_match(app.config, database, chosen, progress=show_progress,
                                  verbosity=app.verbose)
    except DatabaseError as exc:
        raise DatabaseUnavailable(f"{exc}; nothing crawled") from None
    _report(outcome.sources, outcome.totals, result_file)
    if outcome.stop_signal is not None:
        click.echo(f"newsmon: interrupted ({signal.Signals(outcome.stop_signal).name}); the "
                   "runs are recorded as interrupted", err=True)
        sys.exit(exit_code_for_signal(outcome.stop_signal))
    if outcome.database_error is not None:
        raise DatabaseUnavailable(f"database unavailable during crawl: {outcome.database_error}")
    if outcome.totals.errors:
        sys.exit(EXIT_ERRORS)


def _report(results: Sequence[CrawlStats], totals: CrawlResult, result_file: Path | None
            ) -> None:
    """For people on stdout: the per-source table, each source's linked pages and the
    totals line; for ``newsmon run``, the totals in its result file."""
    rows = summary_rows(results)
    click.echo(render_table(rows, list(rows[0])), nl=False)
    for line in outcome_lines(results):
        click.echo(line)
    click.echo(totals.summary())
    write_result_file(result_file, totals)
