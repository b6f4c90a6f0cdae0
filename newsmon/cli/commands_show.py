"""``newsmon show ID``: one stored article in full, with its matches and its story."""

from __future__ import annotations

from collections.abc import Sequence

import click

from newsmon.app import reading
from newsmon.cli.context import AppContext, WorkFailed, pass_app
from newsmon.cli.output import dumps, local_time, terminal_safe
from newsmon.cli.versions_view import render_history
from newsmon.storage.archive import ArticleDetails, StoryArticle


class ArticleNotFound(WorkFailed):
    """No stored article has the id asked for (exit 1, like any failed lookup)."""


def render_details(details: ArticleDetails, zone: str) -> str:
    """The plain-text view: header lines, the body, matches, the story's other outlets."""
    article = details.article
    people = [f"{label}: {value}" for label, value in
              (("source", article.source), ("author", article.author),
               ("editor", article.editor)) if value]
    lines = [
        f"#{article.id}  {article.title}",
        article.canonical_url,
        "  ".join([f"site: {article.site}", *people]),
        f"published {local_time(article.published_at, zone)}"
        + (f" (from {details.published_source})" if details.published_source else "")
        + " · first seen "
        f"{local_time(article.first_seen, zone)}"
        + (f" · changed {local_time(details.changed_at, zone)}" if details.changed_at else ""),
    ]
    if article.tags:
        lines.append("tags: " + ", ".join(article.tags))
    encoding = details.encoding_used + (
        f" (declared {details.encoding_declared})"
        if details.encoding_declared and details.encoding_declared != details.encoding_used
        else "")
    lines += [f"script: {article.script} · encoding: {encoding}", "", article.body.rstrip(), ""]
    lines.append("Topic matches:" if details.matches else "Topic matches: none")
    for match in details.matches:
        flag = "flagged new" if match.is_new else "not flagged"
        lines.append(f"  {match.topic}  ({flag}, {local_time(match.matched_at, zone)})  "
                     f"{' '.join(match.snippet.split())}")
    if article.story_id is not None:
        origin = f", origin {details.story_origin}" if details.story_origin else ""
        others = details.story_articles
        lines.append(f"Story {article.story_id}{origin}: {_others_summary(article.site, others)}")
        for other in others:
            lines.append(f"  #{other.id}  {other.site}  {local_time(other.published_at, zone)}  "
                         f"{other.title}  {other.url}")
    return "\n".join(lines) + "\n"


def _others_summary(own_site: str, others: Sequence[StoryArticle]) -> str:
    """``2 other outlets (3 articles)``: outlets are distinct sites, not articles, and
    a second copy on the article's own site is no other outlet."""
    outlets = len({other.site for other in others} - {own_site})
    summary = f"{outlets} other outlet{'s' if outlets != 1 else ''}" if outlets else (
        "no other outlet")
    if len(others) != outlets:
        summary += f" ({len(others)} other article{'s' if len(others) != 1 else ''})"
    return summary


@click.command("show")
@click.argument("article_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_app
def command(app: AppContext, article_id: int, as_json: bool) -> None:
    """Show one stored article: text, metadata, topic matches, same story elsewhere.

    ID is the number `newsmon search` lists. Times are shown in the configured
    time zone (JSON: UTC, ISO 8601).

    \b
    Example:
      newsmon search 青島
      newsmon show 42
      newsmon show 42 --json
    """
    details = reading.article(app.database, article_id)
    history = reading.article_history(app.database, article_id)
    if details is None:
        raise ArticleNotFound(f"no stored article with id {article_id}")
    zone = app.config.settings.timezone
    if as_json:
        click.echo(dumps(reading.article_json(details) | reading.history_json(history)))
    else:
        lines = render_history(history, zone)
        text = render_details(details, zone) + "".join(f"{line}\n" for line in lines)
        click.echo(terminal_safe(text), nl=False)
