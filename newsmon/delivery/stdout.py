"""The stdout channel: the digest printed for the person (or pipe) that asked for it."""

from __future__ import annotations

from collections.abc import Callable

from newsmon.digest import Digest
from newsmon.digest.render import render


class StdoutChannel:
    """Writes the rendered digest through ``write`` (``click.echo`` in the CLI).

    Atom prints each topic's feed in turn; use a ``file:`` channel for one file per
    topic that a feed reader can poll.
    """

    name = "stdout"

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def send(self, digest: Digest, fmt: str) -> None:
        self._write(render(digest, fmt))
