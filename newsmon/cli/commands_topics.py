"""``newsmon topics``: the questions newsmon watches for."""

from __future__ import annotations

import click

from newsmon.app import topics as use
from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import dumps, emit_records, format_options, local_time
from newsmon.cli.queryarg import QueryCommand, query_argument
from newsmon.digest import highlight

# Kept importable from here: tests read it by this name.
broad_match_warning = use.broad_match_warning


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


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
    change = use.add_topic(app.database, name, query, app.config.settings.backfill_window)
    stats = change.stats
    click.echo(f"added topic {name!r}: {stats.new_matches} of {stats.articles} stored "
               f"articles match, {stats.flagged} flagged for the next digest")
    _warn(change.warnings)


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
    stats = use.edit_topic(app.database, name, query, app.config.settings.backfill_window).stats
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
    rows = [{"name": t.name, "query": t.query, "matches": t.matches, "flagged": t.flagged,
             "created_at": t.created_at} for t in use.list_topics(app.database)]
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
    use.remove_topic(app.database, name)
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
    result = use.backtest(app.database, query, since=since, sample=sample)
    _warn(result.warnings)
    if as_json:
        payload = result.as_json()
        del payload["warnings"]  # they went to stderr, as before
        click.echo(dumps(payload))
        return
    zone = app.config.settings.timezone
    scope = f" published since {since}" if since else ""
    click.echo(f"{result.matched} of {result.scanned} stored articles{scope} match {query!r}")
    for item in result.sample:
        click.echo(f"* {item.title}  ({local_time(item.published, zone)}, id {item.article_id})")
        click.echo(f"  {highlight(item.snippet, item.variants)}")
