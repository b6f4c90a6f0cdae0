"""``newsmon search``: find stored articles with the topic query language.

A thin layer over :mod:`storage.search`; the filter options and the record shape are
shared with ``newsmon export``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import emit_records, format_options, local_time
from newsmon.cli.queryarg import QueryCommand, query_argument
from newsmon.config import parse_duration
from newsmon.query import Plan, QuerySyntaxError, parse_query
from newsmon.storage.engine import Session
from newsmon.storage.search import FoundArticle, SearchFilters, count_matches, search_articles
from newsmon.storage.search import source_names as stored_source_names
from newsmon.storage.topics import list_topics

F = TypeVar("F", bound=Callable[..., Any])

TABLE_COLUMNS = ["id", "published", "site", "source", "title"]
RECORD_COLUMNS = ["id", "published_at", "site", "source", "title", "url", "author", "editor",
                  "tags", "first_seen", "story_id"]


def article_record(article: FoundArticle, zone: str | None = None) -> dict[str, object]:
    """The JSON/CSV shape of a found article; ``zone`` adds a local ``published`` column."""
    record: dict[str, object] = {
        "id": article.id,
        "url": article.canonical_url,
        "title": article.title,
        "source": article.source,
        "site": article.site,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "author": article.author,
        "editor": article.editor,
        "tags": article.tags,
        "first_seen": article.first_seen.isoformat(),
        "story_id": article.story_id,
    }
    if zone is not None:
        record["published"] = local_time(article.published_at, zone)
    return record


def since_option(value: str | None) -> datetime | None:
    """``--since 7d`` (a duration back from now) or an ISO date/time (UTC unless zoned)."""
    if value is None:
        return None
    try:
        duration = parse_duration(value)
        return None if duration is None else datetime.now(UTC) - duration
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a duration (7d, 12h) nor an ISO "
                                 "date (2024-05-01)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def parse_search_query(session: Session, query: str) -> Plan:
    """The query's tree, with topic names usable as aliases; bad queries exit 2."""
    aliases = {topic.name: topic.query for topic in list_topics(session)}
    try:
        return parse_query(query, aliases=aliases)
    except QuerySyntaxError as exc:
        raise click.UsageError(f"{exc}\n{exc.caret_lines()}") from None


def build_filters(session: Session, since: str | None, until: str | None,
                  sources: tuple[str, ...], topics: tuple[str, ...], new_only: bool,
                  watch: tuple[str, ...] = ()) -> SearchFilters:
    """Filters from the options; an unknown source or topic name exits 2 naming it."""
    _check_names("source", sources, stored_source_names(session))
    _check_names("topic", topics, [topic.name for topic in list_topics(session)])
    return SearchFilters(since=since_option(since), until=since_option(until),
                         sources=sources, topics=topics, new_only=new_only, watch=watch)


def _check_names(kind: str, given: tuple[str, ...], known: list[str]) -> None:
    for name in given:
        if name not in known:
            shown = ", ".join(sorted(known)[:20]) or "none stored"
            raise click.UsageError(f"no {kind} named {name!r} (known: {shown})")


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
            limit: int, page: int | None, offset: int | None, count_only: bool,
            changed: bool, taken_down: bool, fmt: str | None) -> None:
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
    skip = offset if offset is not None else ((page or 1) - 1) * limit
    with app.database.session() as session:
        plan = parse_search_query(session, query)
        watch = (("changed",) if changed else ()) + (("taken_down",) if taken_down else ())
        filters = build_filters(session, since, until, sources, topics, new_only, watch)
        if count_only:
            click.echo(count_matches(session, plan, filters))
            return
        found = search_articles(session, plan, filters, limit=limit + 1, offset=skip,
                                sort="relevance" if sort == "relevance" else "newest")
    shown, more = found[:limit], len(found) > limit
    if fmt is None:
        zone = app.config.settings.timezone
        emit_records([article_record(a, zone) for a in shown], fmt, TABLE_COLUMNS)
    else:
        emit_records([article_record(a) for a in shown], fmt, RECORD_COLUMNS)
    if more:
        next_page = skip // limit + 2 if skip % limit == 0 else None
        hint = f"--page {next_page}" if next_page else f"--offset {skip + limit}"
        click.echo(f"more results: {hint}", err=True)
