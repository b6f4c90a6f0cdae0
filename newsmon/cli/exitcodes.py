"""The exit codes of every ``newsmon`` command, in one place (README: "Exit codes").

A cron job or a monitor reads them, so each means one thing everywhere.
"""

from __future__ import annotations

import signal

EXIT_OK = 0
EXIT_ERRORS = 1  # the command ran, but part of its work failed (a source errored, a send failed)
EXIT_USAGE = 2  # the command line, a query or the config file is wrong: fix what was given
EXIT_UNAVAILABLE = 3  # the database or the config file cannot be opened or used
EXIT_INTERRUPTED = 130  # stopped by the user: Ctrl-C (SIGINT)


def exit_code_for_signal(signum: int) -> int:
    """128 + the signal's number, as shells report a command a signal stopped: 130 for
    Ctrl-C (SIGINT), 143 for SIGTERM (a service manager or ``newsmon run`` stopping it)."""
    return EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum
