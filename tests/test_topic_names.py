"""Topic names: like source names, any script, at most 100 characters, one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from newsmon.cli import cli
from newsmon.cli.exitcodes import EXIT_USAGE


def newsmon(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db_url, *args], env={})


@pytest.mark.parametrize("name", ["password-leak", "青島", "a" * 100, "port.jobs_2"])
def test_good_names_are_added(sqlite_url: str, name: str) -> None:
    result = newsmon(sqlite_url, "topics", "add", name, "青島")
    assert result.exit_code == 0, result.output
    assert name in newsmon(sqlite_url, "topics", "list", "--json").output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 101, "topic name is 101 characters long ('aaaaaaaaaaaaaaaaaaaa'…); "
                    "at most 100 are allowed"),
        ("b" * 5000, "topic name is 5000 characters long ('bbbbbbbbbbbbbbbbbbbb'…); "
                     "at most 100 are allowed"),
        ("two words", "topic name 'two words' must be letters, digits, '.', '_' or '-'"),
        ("a/b", "topic name 'a/b' must be letters, digits, '.', '_' or '-'"),
        ("", "topic name '' must be letters, digits, '.', '_' or '-'"),
    ],
)
def test_bad_names_are_one_line_errors(sqlite_url: str, name: str, message: str) -> None:
    result = newsmon(sqlite_url, "topics", "add", name, "青島")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr == f"newsmon: error: {message}\n"
    assert newsmon(sqlite_url, "topics", "list", "--json").output.strip() == "[]"
