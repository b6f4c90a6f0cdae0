"""The ``newsmon`` command: the front door for everything a user does.

A thin layer over the library: each sub-command lives in its own module under
``newsmon.cli`` and calls functions of ``crawler``, ``storage`` and ``scheduler``.
Data goes to stdout, logs and progress to stderr.

Exit codes: 0 success, 1 the work ran but something failed (e.g. a source errored),
2 bad usage, config or query, 3 the database could not be used.
"""

from __future__ import annotations

import sys

import click

from newsmon.cli.context import AppContext, global_options

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@global_options
@click.version_option(package_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None, verbose: int) -> None:
    """Monitor regional Chinese news: crawl, store, match topics, send digests.

    \b
    Example:
      newsmon demo                      # sample sites, crawl, topic 青島, digest
      newsmon --config sites.toml crawl
      newsmon topics add qingdao '青島 OR Qingdao'
      newsmon digest
    """
    ctx.obj = AppContext(db_option=db, config_option=config, verbose=verbose)


def _register() -> None:
    # One import per command module; each module defines `command` (a click command
    # or group). Kept explicit so the command list is greppable.
    from newsmon.cli import (
        commands_crawl,
        commands_db,
        commands_demo,
        commands_digest,
        commands_export,
        commands_extract,
        commands_run,
        commands_search,
        commands_show,
        commands_sources,
        commands_status,
        commands_topics,
    )

    for module in (
        commands_demo,
        commands_crawl,
        commands_sources,
        commands_status,
        commands_topics,
        commands_digest,
        commands_search,
        commands_show,
        commands_export,
        commands_extract,
        commands_db,
        commands_run,
    ):
        cli.add_command(module.command)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        cli.main(prog_name="newsmon", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
