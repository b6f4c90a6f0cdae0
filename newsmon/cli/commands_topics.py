"""``newsmon topics``: the questions newsmon watches for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import click

from newsmon.app.matching import MatchRunStats, match_topic_against_archive
from newsmon.cli.context import AppContext, UserError, pass_app
from newsmon.cli.output import dumps, emit_records, format_options, local_time
from newsmon.cli.queryarg import QueryCommand, query_argument
from newsmon.digest import highlight
from newsmon.query import Plan, QuerySyntaxError, parse_query
from newsmon.storage.engine import Session
from newsmon.storage.topics import (
    TopicError,
    TopicRecord,
    add_topic,
    check_topic_name,
    edit_topic,
    list_topics,
    remove_topic,
    topic_match_counts,
)


def _aliases(app: AppContext, excluding: str | None = None) -> dict[str, str]:
    """Topic name -> query, for ``topic:NAME`` inside queries."""
    with app.database.session() as session:
        return {t.name: t.query for t in list_topics(session) if t.name != excluding}


def _parse(query: str, aliases: dict[str, str], name: str | None = None) -> Plan:
    """Reject a malformed query before anything is stored (exit 2, caret at the spot)."""
    try:
        return parse_query(query, aliases=aliases, name=name)
    except QuerySyntaxError as exc:
        raise click.UsageError(f"{exc}\n{exc.caret_lines()}") from None


def short_term_warnings(plan: Plan) -> list[str]:
    """Terms that will match far more than the user means (one Chinese character,
    one or two Latin letters)."""
    warnings = []
    for term in plan.positive:
        too_short = len(term.norm) < 2 if not term.latin else len(term.norm) < 3
        if too_short and not term.phrase:
            warnings.append(f"term {term.text!r} is so short that it will match most "
                            "articles; use a longer term or an \"exact phrase\"")
    return warnings


@click.group("topics")
def command() -> None:
    """Add, list, edit and remove tracked topics.

    A topic is a query: terms (Chinese needs no spaces), "exact phrases", OR, NOT or
    -term, parentheses, title:/source: scopes and topic:NAME. Matching is across
    scripts: 青島 finds 青岛 and 青島.

    \b
    Example:
      newsmon topics add qingdao '青島 OR Qingdao OR 島城 -房产'
      newsmon topics list --json
    """


@command.command("add", cls=QueryCommand)
@click.argument("name")
@query_argument()
@pass_app
def add(app: AppContext, name: str, query: str) -> None:
    """Track a new topic and match it against the stored articles.

    Stored articles published within the backfill window are flagged for the next
    digest; older ones are recorded as matches but not flagged.

    \b
    Example:
      newsmon topics add 青島 青島
      newsmon topics add port '(青岛港 OR 董家口) -招聘'
      newsmon topics add port-jobs '-海鲜 青岛港 招聘'
    """
    try:
        check_topic_name(name)
    except TopicError as exc:
        raise click.UsageError(str(exc)) from None
    plan = _parse(query, _aliases(app, excluding=name), name)
    stats = _save_and_match(app, name, query, add_topic)
    click.echo(f"added topic {name!r}: {stats.new_matches} of {stats.articles} stored "
               f"articles match, {stats.flagged} flagged for the next digest")
    for warning in [*short_term_warnings(plan), *broad_match_warning(stats.new_matches,
                                                                      stats.articles)]:
        click.echo(f"warning: {warning}", err=True)


def _save_and_match(app: AppContext, name: str, query: str,
                    save: Callable[[Session, str, str, datetime], TopicRecord]
                    ) -> MatchRunStats:
    """Store the topic (add or edit), then match it against the archive at once, so an
    edit never silently does nothing."""
    now = datetime.now(UTC)
    database = app.database
    try:
        with database.session() as session, session.begin():
            save(session, name, query, now)
    except TopicError as exc:
        raise click.UsageError(str(exc)) from None
    return match_topic_against_archive(database, name, now, app.config.settings.backfill_window)


BROAD_MIN_ARTICLES = 20
BROAD_SHARE = 0.3


def broad_match_warning(matched: int, total: int) -> list[str]:
    """Warn when a query would flag a large share of the archive (a digest nobody
    reads): 30 % or more of at least 20 articles, so a small archive never warns."""
    if total >= BROAD_MIN_ARTICLES and matched >= BROAD_SHARE * total:
        return [f"the query matches {matched} of {total} stored articles; "
                "a narrower query will make digests more useful"]
    return []


@command.command("edit", cls=QueryCommand)
@click.argument("name")
@query_argument()
@pass_app
def edit(app: AppContext, name: str, query: str) -> None:
    """Change a topic's query; matches already recorded are kept and never re-flagged.

    \b
    Example:
      newsmon topics edit qingdao '青島 OR 島城'
      newsmon topics edit qingdao '-房产 青島'
    """
    _parse(query, _aliases(app, excluding=name), name)
    stats = _save_and_match(app, name, query, edit_topic)
    click.echo(f"edited topic {name!r}: {stats.new_matches} more stored articles match, "
               f"{stats.flagged} flagged for the next digest")


@command.command("list")
@format_options
@pass_app
def list_(app: AppContext, fmt: str | None) -> None:
    """List topics with their match counts.

    \b
    Example:
      newsmon topics list
      newsmon topics list --json
    """
    with app.database.session() as session:
        counts = topic_match_counts(session)
        rows = [{"name": t.name, "query": t.query, "matches": counts.get(t.id, (0, 0))[0],
                 "flagged": counts.get(t.id, (0, 0))[1], "created_at": t.created_at}
                for t in list_topics(session)]
    emit_records(rows, fmt, ["name", "query", "matches", "flagged", "created_at"])


@command.command("remove")
@click.argument("name")
@pass_app
def remove(app: AppContext, name: str) -> None:
    """Stop tracking a topic (its matches are deleted).

    \b
    Example:
      newsmon topics remove qingdao
    """
    try:
        with app.database.session() as session, session.begin():
            remove_topic(session, name)
    except TopicError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"removed topic {name!r}")


@command.command("test", cls=QueryCommand)
@query_argument()
@click.option("--since", default=None, metavar="WHEN",
              help="Only articles published after this: a duration (30d) or a date.")
@click.option("--sample", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many matching articles to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
def test(app: AppContext, query: str, since: str | None, sample: int, as_json: bool) -> None:
    """Try a query on the stored articles without saving anything.

    Shows how many stored articles it would match and a sample, newest first,
    with the matched text in [brackets] — the same matching a topic uses.

    \b
    Example:
      newsmon topics test '青島 -房产' --since 30d
      newsmon topics test '-房产 青島'
      newsmon topics test 'title:(青岛 OR 烟台) 港口' --json
    """
    from newsmon.cli.commands_search import since_option
    from newsmon.scheduler.topictest import try_query

    aliases = _aliases(app)
    plan = _parse(query, aliases)
    result = try_query(app.database, query, aliases, since=since_option(since), sample=sample)
    for warning in [*short_term_warnings(plan),
                    *broad_match_warning(result.matched, result.scanned)]:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        click.echo(dumps(result.as_json()))
        return
    zone = app.config.settings.timezone
    scope = f" published since {since}" if since else ""
    click.echo(f"{result.matched} of {result.scanned} stored articles{scope} match {query!r}")
    for item in result.sample:
        click.echo(f"* {item.title}  ({local_time(item.published, zone)}, id {item.article_id})")
        click.echo(f"  {highlight(item.snippet, item.variants)}")
