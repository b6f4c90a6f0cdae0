"""``newsmon digest``: print the matches not yet delivered, then mark them delivered."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from newsmon.cli.context import AppContext, pass_app
from newsmon.cli.output import dumps
from scheduler.digest import build_digest, digest_as_json, render_text
from storage.matches import mark_delivered, undelivered_matches

DEFAULT_SUBSCRIPTION = "default"


@click.command("digest")
@click.option("--dry-run", is_flag=True, help="Show the digest but do not mark it delivered.")
@click.option("--json", "as_json", is_flag=True, help="Print the digest as JSON.")
@click.option("--subscription", default=DEFAULT_SUBSCRIPTION, show_default=True,
              help="Whose delivery ledger to use; each subscription gets each match once.")
@pass_app
def command(app: AppContext, dry_run: bool, as_json: bool, subscription: str) -> None:
    """Print new topic matches grouped by topic, then mark them delivered.

    Each entry shows the title, the 来源 outlet, the local publish time, the URL
    and a snippet around the hit. A match is marked delivered only after it was
    printed, so an interrupted digest repeats rather than loses matches.

    \b
    Example:
      newsmon digest
      newsmon digest --dry-run --json
    """
    config = app.config
    now = datetime.now(UTC)
    with app.database.session() as session:
        pending = undelivered_matches(session, subscription)
    zones = {s.name: s.timezone for s in config.sources}
    digest = build_digest(subscription, pending, now, zones, config.settings.timezone)
    click.echo(dumps(digest_as_json(digest)) if as_json else render_text(digest), nl=as_json)
    if not dry_run and not digest.is_empty:
        with app.database.session() as session, session.begin():
            mark_delivered(session, digest.match_ids, subscription, now)
