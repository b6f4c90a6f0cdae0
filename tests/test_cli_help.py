"""Every command and sub-command documents itself with an example, and the README
mentions every top-level command."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsmon.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def walk(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from walk(command, (*prefix, name))


COMMANDS = list(walk(cli))


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "newsmon")
def test_help_shows_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "newsmon " in result.output.split("Example:", 1)[1]


def test_the_readme_mentions_every_command() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"newsmon {name}" not in readme
               and f"newsmon [--db URL] [--config PATH] [-v] {name}" not in readme]
    assert missing == []
