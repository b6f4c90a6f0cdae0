"""``newsmon db``: schema migrations and maintenance."""

from __future__ import annotations

import click

from newsmon.cli.context import AppContext, pass_app
from newsmon.storage.fts import rebuild_search_index
from newsmon.storage.migrate import current_revision, head_revision, upgrade_to_head


@click.group("db")
def command() -> None:
    """Database schema and maintenance.

    \b
    Example:
      newsmon db upgrade
      newsmon --db postgresql://127.0.0.1/news db upgrade
    """


@command.command("upgrade")
@pass_app
def upgrade(app: AppContext) -> None:
    """Apply pending migrations (also done automatically on first use).

    Also creates a new SQLite file's directory, which other commands refuse to do
    (a mistyped --db path is an error there, not a new empty archive).

    \b
    Example:
      newsmon --db sqlite:///news.db db upgrade
    """
    database = app.open_database(create=True, migrate=False)  # may make its directory
    ran = upgrade_to_head(database.engine)
    state = "upgraded to" if ran else "already at"
    click.echo(f"{database.display_url}: {state} revision {head_revision()}")


@command.command("current")
@pass_app
def current(app: AppContext) -> None:
    """Show the database's schema revision and the newest one available.

    \b
    Example:
      newsmon db current
    """
    database = app.open_database(migrate=False)
    revision = current_revision(database.engine)
    click.echo(f"{database.display_url}: revision {revision or '(empty)'}, "
               f"head {head_revision()}")


@command.command("reindex")
@pass_app
def reindex(app: AppContext) -> None:
    """Rebuild the full-text search index from the stored articles.

    Writes keep the index in step by themselves; this repairs it, or rebuilds it
    after an upgrade that changes how text is indexed.

    \b
    Example:
      newsmon db reindex
    """
    with app.database.session() as session, session.begin():
        indexed = rebuild_search_index(session)
    click.echo(f"{app.database.display_url}: search index rebuilt over {indexed} articles")
