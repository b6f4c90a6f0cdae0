"""``newsmon search``: find stored articles with the topic query language."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import emit_records, format_options
from newsmon.config import parse_duration
from newsmon.query import QuerySyntaxError, parse_query
from storage.models import Article
from storage.search import SearchFilters, search_articles
from storage.topics import list_topics

COLUMNS = ["id", "published_at", "source", "site", "title", "url"]


def article_record(article: Article, site: str) -> dict[str, object]:
    return {
        "id": article.id,
        "url": article.canonical_url,
        "title": article.title,
        "source": article.source,
        "site": site,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "author": article.author,
        "editor": article.editor,
        "tags": article.tags,
    }


def since_option(value: str | None) -> datetime | None:
    """``--since 7d`` (a duration back from now) or an ISO date/time."""
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


@click.command("search")
@click.argument("query")
@click.option("--since", metavar="WHEN", help="Published after: a duration (7d) or a date.")
@click.option("--until", metavar="WHEN", help="Published before: a duration or a date.")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only articles crawled from this source (repeatable).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@format_options
@pass_app
def command(app: AppContext, query: str, since: str | None, until: str | None,
            sources: tuple[str, ...], limit: int, offset: int, fmt: str | None) -> None:
    """Search stored articles, newest first, in either script.

    QUERY uses the topic query language: terms, "exact phrases", OR, NOT/-term,
    parentheses, title:/source: and topic:NAME. 青島 and 青岛 find the same articles.

    \b
    Example:
      newsmon search 青島
      newsmon search '上合 -峰会' --since 7d --json
      newsmon search '"自贸区"' --source dzwww --csv > report.csv
    """
    with app.database.session() as session:
        aliases = {t.name: t.query for t in list_topics(session)}
        try:
            node = parse_query(query, aliases=aliases)
        except QuerySyntaxError as exc:
            raise click.UsageError(f"{exc}\n{exc.caret_lines()}") from None
        filters = SearchFilters(since=since_option(since), until=since_option(until),
                                sources=sources)
        found = search_articles(session, node, filters, limit=limit, offset=offset)
        records = [article_record(a, a.crawl_source.name) for a in found]
    emit_records(records, fmt, COLUMNS)
