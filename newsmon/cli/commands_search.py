"""``newsmon search``: find stored articles with the topic query language.

A thin layer over :mod:`storage.search`; the filter options and the record shape are
shared with ``newsmon export``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from newsmon.app import reading
from newsmon.app.reading import SearchRequest
from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import emit_records, format_options, local_time
from newsmon.cli.queryarg import QueryCommand, query_argument
from newsmon.storage.search import FoundArticle

F = TypeVar("F", bound=Callable[..., Any])

TABLE_COLUMNS = ["id", "published", "site", "source", "title"]
RECORD_COLUMNS = ["id", "published_at", "site", "source", "title", "url", "author", "editor",
                  "tags", "first_seen", "story_id"]


def article_record(article: FoundArticle, zone: str | None = None) -> dict[str, object]:
    """The JSON/CSV shape of a found article; ``zone`` adds a local ``published`` column."""
    return reading.article_record(
        article, None if zone is None else local_time(article.published_at, zone))


def filter_options(func: F) -> F:
    """``--since --until --source --topic --new``, shared by search and export."""
    func = click.option("--new", "new_only", is_flag=True,
                        help="Only articles flagged new for a topic (for --topic ones if "
                        "given).")(func)
    func = click.option("--topic", "topics", multiple=True, metavar="NAME",
                        help="Only articles that matched this topic (repeatable).")(func)
    func = click.option("--source", "sources", multiple=True, metavar="NAME",
                        help="Only articles crawled from this source (repeatable).")(func)
    func = click.option("--until", metavar="WHEN",
                        help="Published before: a duration ago (2d) or a date.")(func)
    func = click.option("--since", metavar="WHEN",
                        help="Published at or after: a duration ago (7d) or a date.")(func)
    return func


@click.command("search", cls=QueryCommand)
@query_argument()
@filter_options
@click.option("--sort", type=click.Choice(["newest", "relevance"]), default="newest",
              show_default=True, help="relevance ranks every match (slower on common terms).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000),
              help="Results per page.")
@click.option("--page", type=click.IntRange(1), default=None, help="Page number (1 = first).")
@click.option("--offset", type=click.IntRange(0), default=None,
              help="Skip this many results (instead of --page).")
@click.option("--after", "cursor", metavar="CURSOR", default=None,
              help="Continue after the page that printed this cursor (stays fast deep "
              "into the results).")
@click.option("--script", type=click.Choice(reading.SCRIPTS), default=None,
              help="Only articles written in this script.")
@click.option("--count", "count_only", is_flag=True,
              help="Print only how many articles match (reads every match).")
@click.option("--changed", is_flag=True,
              help="Only articles a re-visit found edited (see `newsmon revisit`).")
@click.option("--taken-down", "taken_down", is_flag=True,
              help="Only articles whose page is taken down.")
@format_options
@pass_app
def command(app: AppContext, query: str, since: str | None, until: str | None,
            sources: tuple[str, ...], topics: tuple[str, ...], new_only: bool, sort: str,
            limit: int, page: int | None, offset: int | None, cursor: str | None,
            script: str | None, count_only: bool, changed: bool, taken_down: bool,
            fmt: str | None) -> None:
    """Search stored articles, newest first, in either script.

    QUERY uses the topic query language: terms, "exact phrases", OR, NOT/-term,
    parentheses, title:/body:/source: and topic:NAME. 青島 and 青岛 find the same
    articles; 1- and 2-character terms are fine. A query may start with an exclusion
    (-term) and may be given as several words.

    \b
    Example:
      newsmon search 青島
      newsmon search '上合 -峰会' --since 7d --json
      newsmon search '-香港 青岛'
      newsmon search '"自贸区"' --source dzwww --csv > report.csv
      newsmon search 港口 --topic qingdao --new --page 2
      newsmon search '青岛 OR 烟台' --sort relevance --limit 5
      newsmon search 青島 --changed
    """
    if page is not None and offset is not None:
        raise click.BadOptionUsage("offset", "give --page or --offset, not both")
    if cursor is not None and (page is not None or offset is not None):
        raise click.BadOptionUsage("after", "give --after or --page/--offset, not both")
    if not query.strip():  # the API lists every article for no query; the CLI asks for one
        with app.database.session() as session:
            reading.parse_search_query(session, query)
    skip = offset if offset is not None else ((page or 1) - 1) * limit
    watch = (("changed",) if changed else ()) + (("taken_down",) if taken_down else ())
    request = SearchRequest(query, sources, topics, since, until, script, new_only,
                            "relevance" if sort == "relevance" else "newest", limit,
                            cursor, skip, snippets=False, watch=watch)
    if count_only:
        click.echo(reading.count(app.database, request))
        return
    found = reading.search(app.database, request)
    shown = [hit.article for hit in found.hits]
    if fmt is None:
        zone = app.config.settings.timezone
        emit_records([article_record(a, zone) for a in shown], fmt, TABLE_COLUMNS)
    else:
        emit_records([article_record(a) for a in shown], fmt, RECORD_COLUMNS)
    if found.next_cursor is not None:
        if cursor is not None:
            hint = f"--after {found.next_cursor}"
        else:
            next_page = skip // limit + 2 if skip % limit == 0 else None
            hint = f"--page {next_page}" if next_page else f"--offset {skip + limit}"
            hint += f" (or --after {found.next_cursor})"
        click.echo(f"more results: {hint}", err=True)
