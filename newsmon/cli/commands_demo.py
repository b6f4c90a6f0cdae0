"""``newsmon demo``: the whole path on the bundled sample sites, in one command."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from click.core import ParameterSource

from newsmon.cli.context import AppContext, pass_app
from newsmon.config import default_data_dir, demo_database_url, is_default_location
from newsmon.storage.engine import Database, check_database_target
from newsmon.timefmt import format_duration

DEMO_TOPIC = "青島"

# The sample pages are real articles from years ago: with the default 48 h backfill
# window none of them would be flagged, so the demo config turns the window off.
DEMO_SETTINGS = 'backfill_window = "off"\n'


def demo_database_url_of(app: AppContext) -> str:
    """``--db`` when given on the command line; otherwise the demo's own SQLite file in
    the data directory, so the sample articles never reach the user's digests (nor
    does ``NEWSMON_DB``, which names the database of real use)."""
    root = click.get_current_context().find_root()
    from_env = root.get_parameter_source("db") is ParameterSource.ENVIRONMENT
    if app.db_option and not from_env:
        return app.db_option
    return demo_database_url()


def _open_demo_database(url: str) -> Database:
    """The demo database, migrated now so the demo fails before starting anything."""
    check_database_target(url, create=is_default_location(url))
    database = Database(url)
    database.ensure_schema()
    return database


def _newsmon(app: AppContext, config_path: Path, *args: str) -> int:
    """Run a newsmon sub-command in a child process (a crawl needs a fresh reactor)."""
    cmd = [sys.executable, "-m", "newsmon", "--db", demo_database_url_of(app),
           "--config", str(config_path), *args]
    return subprocess.run(cmd, check=False).returncode


class _Steps:
    """``### [2/5] Day one: crawl`` before a step and ``[2/5] done in 3.3s`` after it,
    so a demo that takes a minute shows where it is."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.number = 0

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        self.number += 1
        _heading(f"[{self.number}/{self.total}] {text}")
        started = time.monotonic()
        yield
        took = format_duration(time.monotonic() - started)
        click.echo(f"[{self.number}/{self.total}] done in {took}")


def _write_demo_config(config_toml: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo-config.toml"
    path.write_text(config_toml.replace("[settings]\n", "[settings]\n" + DEMO_SETTINGS, 1),
                    encoding="utf-8")
    return path


def _heading(text: str) -> None:
    click.echo("")
    click.echo(click.style(f"### {text}", bold=True))


@click.command("demo")
@click.option("--workdir", type=click.Path(path_type=Path), default=None,
              help="Where to write the demo config [default: the data directory].")
@pass_app
def command(app: AppContext, workdir: Path | None) -> None:
    """Serve the sample sites, crawl day one, track 青島, print the digest, crawl
    day two, print only the new matches.

    Uses its own database, demo.db in the data directory, unless --db is given on
    the command line: the sample articles never reach the default database or its
    digests. The output names the database to pass to `newsmon search` and friends.

    \b
    Example:
      newsmon demo
      newsmon --db sqlite:///fresh-demo.db demo
    """
    from newsmon.samplesites import SampleSites

    database = _open_demo_database(demo_database_url_of(app))
    own = demo_database_url_of(app) != app.db_option
    click.echo(f"database: {database.display_url}"
               + (" (the demo's own; your default database is untouched)" if own else ""))
    with SampleSites(day=1) as sites:
        config_path = _write_demo_config(sites.config_toml(), workdir or default_data_dir())
        click.echo(f"sample sites: {sites.base_url} ({', '.join(sites.site_names())})")
        click.echo(f"demo config: {config_path}")

        steps = _Steps(5)
        with steps.step("Day one: crawl"):
            _newsmon(app, config_path, "crawl", "--no-progress")
        with steps.step(f"Topic {DEMO_TOPIC}"):
            if _has_topic(app):
                click.echo(f"topic {DEMO_TOPIC!r} already tracked; matches an earlier demo "
                           "run delivered are not repeated (use --db sqlite:///fresh.db to "
                           "start over)")
            else:
                _newsmon(app, config_path, "topics", "add", DEMO_TOPIC, DEMO_TOPIC)
        with steps.step("Day one: digest"):
            _newsmon(app, config_path, "digest")

        sites.set_day(2)
        with steps.step("Day two: crawl"):
            _newsmon(app, config_path, "crawl", "--no-progress")
        with steps.step("Day two: digest (only what is new since day one)"):
            _newsmon(app, config_path, "digest")
    db = f"--db {demo_database_url_of(app)}"
    click.echo(f"Try: newsmon {db} search 青岛   ·   newsmon {db} topics list   ·   "
               "newsmon --help")
    database.dispose()


def _has_topic(app: AppContext) -> bool:
    from newsmon.storage.topics import get_topic

    database = Database(demo_database_url_of(app))
    with database.session() as session:
        found = get_topic(session, DEMO_TOPIC) is not None
    database.dispose()
    return found
