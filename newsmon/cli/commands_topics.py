"""``newsmon topics``: the questions newsmon watches for."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import emit_records, format_options
from newsmon.query import QuerySyntaxError, parse_query
from storage.topics import (
    TopicError,
    add_topic,
    edit_topic,
    list_topics,
    remove_topic,
    topic_match_counts,
)


def _check_query(app: AppContext, name: str, query: str) -> None:
    """Reject a malformed query before anything is stored (exit 2, caret at the spot)."""
    with app.database.session() as session:
        aliases = {t.name: t.query for t in list_topics(session) if t.name != name}
    try:
        parse_query(query, aliases=aliases)
    except QuerySyntaxError as exc:
        raise click.UsageError(f"{exc}\n  {query}\n  {' ' * exc.position}^") from None


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


@command.command("add")
@click.argument("name")
@click.argument("query")
@pass_app
def add(app: AppContext, name: str, query: str) -> None:
    """Track a new topic and match it against the stored articles.

    Stored articles published within the backfill window are flagged for the next
    digest; older ones are recorded as matches but not flagged.

    \b
    Example:
      newsmon topics add 青島 青島
      newsmon topics add port '(青岛港 OR 董家口) -招聘'
    """
    from scheduler.matchjobs import match_topic_against_archive

    _check_query(app, name, query)
    now = datetime.now(UTC)
    database = app.database
    try:
        with database.session() as session, session.begin():
            add_topic(session, name, query, now)
    except TopicError as exc:
        raise click.UsageError(str(exc)) from None
    stats = match_topic_against_archive(database, name, now, app.config.settings.backfill)
    click.echo(f"added topic {name!r}: {stats.new_matches} of {stats.articles} stored "
               f"articles match, {stats.flagged} flagged for the next digest")
    _warn_if_broad(name, stats.new_matches, stats.articles)


def _warn_if_broad(name: str, matched: int, total: int) -> None:
    if total >= 20 and matched / total > 0.5:
        click.echo(f"warning: topic {name!r} matches {matched} of {total} stored articles; "
                   "a narrower query will make digests more useful", err=True)


@command.command("edit")
@click.argument("name")
@click.argument("query")
@pass_app
def edit(app: AppContext, name: str, query: str) -> None:
    """Change a topic's query; matches already recorded are kept and never re-flagged.

    \b
    Example:
      newsmon topics edit qingdao '青島 OR 島城'
    """
    from scheduler.matchjobs import match_topic_against_archive

    _check_query(app, name, query)
    now = datetime.now(UTC)
    database = app.database
    try:
        with database.session() as session, session.begin():
            edit_topic(session, name, query, now)
    except TopicError as exc:
        raise click.UsageError(str(exc)) from None
    stats = match_topic_against_archive(database, name, now, app.config.settings.backfill)
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
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"removed topic {name!r}")
