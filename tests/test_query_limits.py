"""Query size limits: deep nesting and huge term lists are refused with a caret.

Before the limits, 200 nested parentheses raised RecursionError, ``NOT`` x 60
overflowed SQLite's parser stack, and ``topics add`` stored such a query so that
``search @topic`` crashed later.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from newsmon.cli import cli
from newsmon.cli.exitcodes import EXIT_USAGE
from newsmon.query import MAX_NESTING, MAX_TERMS, QuerySyntaxError, parse_query
from newsmon.storage.engine import Database
from tests.digest_support import seed_two_topics

DEEP_PARENS = "(" * 200 + "青島" + ")" * 200
MANY_NOTS = "青島 " + "NOT " * 60 + "烟台"
NESTING_ERROR = (f"query position {{}}: expected at most {MAX_NESTING} nested levels "
                 "(of '(' and NOT/'-'; simplify the query)")


def nested(levels: int) -> str:
    return "(" * levels + "青島" + ")" * levels


def words(count: int) -> str:
    return " OR ".join(f"w{i}" for i in range(count))


def test_nesting_up_to_the_limit_parses() -> None:
    parse_query(nested(MAX_NESTING))
    parse_query("青島 " + "NOT " * MAX_NESTING + "烟台")
    parse_query("青島 " + "-(" * (MAX_NESTING // 2) + "烟台" + ")" * (MAX_NESTING // 2))


@pytest.mark.parametrize(
    ("query", "position"),
    [
        (nested(MAX_NESTING + 1), MAX_NESTING),
        (DEEP_PARENS, MAX_NESTING),
        (MANY_NOTS, len("青島 ") + 4 * MAX_NESTING),
        ("青島 " + "NOT (" * 6 + "烟台" + ")" * 6, len("青島 NOT (NOT (NOT (NOT (NOT (")),
    ],
)
def test_too_deep_is_refused_at_the_first_level_too_many(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        parse_query(query)
    assert error.value.position == position
    assert str(error.value) == NESTING_ERROR.format(position)


def test_terms_up_to_the_limit_parse_and_one_more_is_refused() -> None:
    parse_query(words(MAX_TERMS))
    query = words(MAX_TERMS + 1)
    with pytest.raises(QuerySyntaxError) as error:
        parse_query(query)
    assert error.value.position == query.index(f"w{MAX_TERMS}")
    assert str(error.value).endswith(f"expected at most {MAX_TERMS} terms "
                                     "(split it into several topics)")


def test_limits_count_through_topic_aliases() -> None:
    aliases = {"inner": nested(MAX_NESTING - 1), "many": words(MAX_TERMS)}
    parse_query("(@inner)", aliases)
    parse_query("@many", aliases)
    with pytest.raises(QuerySyntaxError, match="nested levels"):
        parse_query("(@inner)", {"inner": nested(MAX_NESTING)})
    with pytest.raises(QuerySyntaxError, match="terms"):
        parse_query("extra @many", aliases)


# --------------------------------------------------------------------------------------
# Through the CLI, on SQLite and PostgreSQL


@pytest.fixture
def seeded(db_url: str) -> str:
    database = Database(db_url)
    seed_two_topics(database)
    database.dispose()
    return db_url


def newsmon(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db_url, *args], env={})


@pytest.mark.parametrize(("query", "position"), [
    (DEEP_PARENS, MAX_NESTING),
    (MANY_NOTS, len("青島 ") + 4 * MAX_NESTING),
])
def test_search_refuses_with_a_caret(seeded: str, query: str, position: int) -> None:
    result = newsmon(seeded, "search", query)
    assert result.exit_code == EXIT_USAGE, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "newsmon: error: " + NESTING_ERROR.format(position)
    assert lines[1] == query
    wide = sum(1 for char in query[:position] if char in "青島")  # two columns each
    assert lines[2] == " " * (position + wide) + "^"


def test_search_at_the_limit_runs_on_the_database(seeded: str) -> None:
    """Nine NOTs is one NOT: the same articles as ``青島 NOT 烟台``, found in SQL."""
    result = newsmon(seeded, "search", "青島 " + "NOT " * (MAX_NESTING - 1) + "烟台")
    assert result.exit_code == 0, result.output
    assert "青岛港开通新航线" in result.output
    assert result.output == newsmon(seeded, "search", "青島 NOT 烟台").output
    assert "青岛港开通新航线" not in newsmon(seeded, "search", "青島 NOT NOT 烟台").output


@pytest.mark.parametrize("command", [("topics", "add", "deep"), ("topics", "edit", "青島"),
                                     ("topics", "test")])
def test_topics_commands_refuse_before_storing(seeded: str, command: tuple[str, ...]) -> None:
    result = newsmon(seeded, *command, MANY_NOTS)
    assert result.exit_code == EXIT_USAGE, result.output
    assert result.stderr.splitlines()[0].endswith(
        NESTING_ERROR.format(len("青島 ") + 4 * MAX_NESTING))
    listed = newsmon(seeded, "topics", "list", "--json")
    assert "deep" not in listed.output and "NOT NOT" not in listed.output
    search = newsmon(seeded, "search", "@青島")
    assert search.exit_code == 0, search.output
