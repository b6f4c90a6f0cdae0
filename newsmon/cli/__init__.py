"""The ``newsmon`` command: the front door for everything a user does.

A thin layer over the library: each sub-command lives in its own module under
``newsmon.cli`` and calls functions of ``crawler``, ``storage`` and ``scheduler``.
Data goes to stdout, logs and progress to stderr.

Exit codes (:mod:`newsmon.cli.exitcodes`, README "Exit codes"): 0 success, 1 the work
ran but something failed, 2 bad usage, config or query, 3 the database or config file
cannot be used, 130 interrupted by Ctrl-C. Only a real usage error (an unknown option,
a missing argument) prints the usage block; every other error is one line
``newsmon: error: …``.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from newsmon.cli.context import AppContext, global_options, late_global_options
from newsmon.cli.exitcodes import EXIT_ERRORS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

PROG = "newsmon"


class NewsmonGroup(click.Group):
    """The top-level group: global options after any command, and quiet errors."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        accept_global_options(cmd)
        super().add_command(cmd, name)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False,
                                windows_expand_args=windows_expand_args, **extra)
        argv = list(sys.argv[1:] if args is None else args)

        def invoke() -> Any:
            return super(NewsmonGroup, self).main(argv, prog_name or PROG, complete_var, False,
                                                  windows_expand_args=windows_expand_args,
                                                  **extra)

        sys.exit(run_reporting_errors(invoke, argv))


def accept_global_options(cmd: click.Command) -> None:
    """Let ``--db``, ``--config`` and ``-v`` follow ``cmd`` (and its sub-commands) too:
    ``newsmon search 香港 --db …`` means what ``newsmon --db … search 香港`` does."""
    taken = {opt for param in cmd.params for opt in param.opts}
    cmd.params.extend(opt for opt in late_global_options() if not taken & set(opt.opts))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            accept_global_options(sub)


def run_reporting_errors(invoke: Callable[[], Any], argv: Sequence[str]) -> int:
    """Run the command line; report any error on stderr and return the exit code."""
    try:
        check_argv_encoding(argv)
        result = invoke()
    except click.UsageError as exc:  # only click's parser raises these (see UserError)
        show_usage(exc)
        return report_error(exc.format_message(), EXIT_USAGE)
    except click.ClickException as exc:
        return report_error(exc.format_message(), exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt | EOFError):
            return report_error("interrupted", EXIT_INTERRUPTED, label="")
        return report_error("aborted", EXIT_ERRORS)
    except KeyboardInterrupt:
        return report_error("interrupted", EXIT_INTERRUPTED, label="")
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # The reader went away (`| head`): stop quietly, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK


class ArgvNotUTF8(click.ClickException):
    """A command-line argument that is not valid UTF-8 (a one-line error, exit 2)."""

    exit_code = EXIT_USAGE


def check_argv_encoding(argv: Sequence[str]) -> None:
    """Python keeps undecodable argv bytes as lone surrogates; name the argument and byte
    before they reach a query, a path or the database."""
    for number, arg in enumerate(argv, start=1):
        raw = os.fsencode(arg)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArgvNotUTF8(f"argument {number} is not valid UTF-8: {raw!r} (byte "
                              f"{exc.start + 1} is 0x{raw[exc.start]:02x})") from None


def show_usage(exc: click.UsageError) -> None:
    ctx = exc.ctx
    if ctx is None:
        return
    hint = ""
    if ctx.command.get_help_option(ctx) is not None:
        hint = f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.\n"
    click.echo(f"{ctx.get_usage()}\n{hint}", err=True, color=ctx.color)


def report_error(message: str, code: int, label: str = "error: ") -> int:
    """``newsmon: error: …`` on stderr (a multi-line message keeps its later lines, e.g.
    the caret under a query's bad character)."""
    click.echo(f"{PROG}: {label}{message}", err=True)
    return code


@click.group(cls=NewsmonGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@global_options
@click.version_option(package_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None, verbose: int) -> None:
    """Monitor regional Chinese news: crawl, store, match topics, send digests.

    --db, --config and -v may also follow the command. Exit codes: 0 ok, 1 ran with
    errors, 2 usage/config/query error, 3 database or config unavailable, 130
    interrupted (Ctrl-C).

    \b
    Example:
      newsmon demo                      # sample sites, crawl, topic 青島, digest
      newsmon --config sites.toml crawl
      newsmon topics add qingdao '青島 OR Qingdao'
      newsmon search '-香港 青岛' --db sqlite:///news.db
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
        commands_mcp,
        commands_revisit,
        commands_run,
        commands_search,
        commands_serve,
        commands_show,
        commands_sources,
        commands_status,
        commands_topics,
        commands_worker,
    )

    for module in (
        commands_demo,
        commands_crawl,
        commands_revisit,
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
        commands_worker,
        commands_serve,
        commands_mcp,
    ):
        cli.add_command(module.command)


_register()


def main() -> None:
    """Console-script entry point (exits with the command's exit code)."""
    cli.main(prog_name=PROG)
