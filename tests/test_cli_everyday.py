"""Everyday use of the ``newsmon`` command (issue 15, and issue 20's argv decoding):
the README's test line, queries that lead with an exclusion, global options after the
command, database paths, exit codes (Ctrl-C on a running crawl), quiet one-line errors
and -v/-vv. Each runs the real command in a child process against the sample sites,
so the exact stderr and exit code a user sees are what is checked."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from newsmon.cli import cli
from newsmon.samplesites import SampleSites
from newsmon.tomlerrors import explain_toml_error
from tests.conftest import with_settings

ROOT = Path(__file__).resolve().parents[1]


def newsmon(*args: str | bytes, home: Path, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``newsmon ARGS`` exactly as given (no options added), with its own XDG dirs."""
    return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, env=child_env(home),
                          cwd=cwd)


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update(PYTHONIOENCODING="utf-8", XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"))
    return env


@dataclass
class Archive:
    """Day one of the sample sites, crawled once into a SQLite file for this module."""

    db: str
    config: Path
    home: Path

    def run(self, *args: str | bytes) -> subprocess.CompletedProcess[str]:
        return newsmon("--db", self.db, "--config", str(self.config), *args, home=self.home)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    tmp = tmp_path_factory.mktemp("everyday")
    with SampleSites(day=1) as sites:
        config = tmp / "sites.toml"
        config.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"'),
                          encoding="utf-8")
        archive = Archive(f"sqlite:///{tmp / 'news.db'}", config, tmp / "home")
        crawl = archive.run("crawl")
        assert crawl.returncode == 0, crawl.stderr
        yield archive


def count(archive: Archive, *query: str) -> int:
    result = archive.run("search", *query, "--count")
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


# -- 1. the README's test line -----------------------------------------------------------


def test_the_readme_test_line_is_scripts_test_and_ci_runs_that_line() -> None:
    script = ROOT / "scripts" / "test"
    assert os.access(script, os.X_OK)
    shown = subprocess.run(
        ["bash", "-c", f'cd "{ROOT}"; eval "$(sed -n "/^readme_test_command()/,/^}}/p" '
         '.ci/run)"; readme_test_command'], capture_output=True, text=True, check=True)
    assert shown.stdout == "scripts/test\n"
    assert 'exec bash -c "$cmd"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


# -- 2. queries that lead with an exclusion ----------------------------------------------


def test_a_query_may_lead_with_an_exclusion_in_search(archive: Archive) -> None:
    expected = archive.run("search", "青岛 -香港", "--json")
    assert expected.returncode == 0 and json.loads(expected.stdout)
    for args in (["search", "-香港 青岛", "--json"], ["search", "--json", "--", "-香港 青岛"],
                 ["search", "NOT", "香港", "青岛", "--json"],
                 ["search", "-香港", "青岛", "--json"]):
        result = archive.run(*args)
        assert (result.returncode, result.stderr, result.stdout) == (0, "", expected.stdout)
    # the exclusion really excludes: 记者 with 中国 and without it add up to 记者
    without = count(archive, "-中国 记者")
    assert 0 < without < count(archive, "记者")
    assert without + count(archive, "记者 中国") == count(archive, "记者")


def test_a_leading_exclusion_is_never_taken_for_a_known_option(archive: Archive,
                                                               tmp_path: Path) -> None:
    # `-obama` would be `-o bama` to click; here it is a query made only of an exclusion
    result = newsmon("--db", archive.db, "export", "-obama", home=archive.home, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("newsmon: error: query position 0: expected at least "
                                    "one term that must be present")
    assert list(tmp_path.iterdir()) == []  # no file 'bama'
    hello = archive.run("search", "-hello 青岛", "--count")  # not -h (help)
    assert (hello.returncode, hello.stdout) == (0, f"{count(archive, '青岛')}\n")


def test_topics_and_export_take_a_leading_exclusion(archive: Archive) -> None:
    matched = count(archive, "-中国 记者")
    assert matched > 1
    tried = archive.run("topics", "test", "-中国 记者", "--json")
    assert tried.returncode == 0 and json.loads(tried.stdout)["matched"] == matched
    added = archive.run("topics", "add", "reporters", "-中国 记者")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"added topic 'reporters': {matched} of ")
    edited = archive.run("topics", "edit", "reporters", "-台湾 记者")
    assert edited.returncode == 0, edited.stderr
    listed = json.loads(archive.run("topics", "list", "--json").stdout)
    assert [t["query"] for t in listed if t["name"] == "reporters"] == ["-台湾 记者"]
    exported = archive.run("export", "-中国 记者")
    assert exported.returncode == 0
    assert len(exported.stdout.splitlines()) == matched
    assert exported.stderr == f"exported {matched} articles\n"
    assert archive.run("topics", "remove", "reporters").returncode == 0


@pytest.mark.parametrize("path", [("search",), ("export",), ("topics", "add"),
                                  ("topics", "edit"), ("topics", "test")])
def test_the_help_shows_a_query_that_leads_with_an_exclusion(path: tuple[str, ...]) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*path, "--help"])
    examples = result.output.split("Example:", 1)[1]
    assert f"newsmon {' '.join(path)} " in examples
    assert any(line.split(" '", 1)[-1].startswith("-") for line in examples.splitlines()
               if line.strip().startswith(f"newsmon {' '.join(path)} ") and " '" in line)


# -- 3. global options after the command -------------------------------------------------


def _commands(group: click.Group, prefix: tuple[str, ...] = ()
              ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize(("path", "command"), list(_commands(cli)),
                         ids=lambda p: " ".join(p) if isinstance(p, tuple) else "")
def test_every_command_accepts_the_global_options_after_it(
        path: tuple[str, ...], command: click.Command) -> None:
    names = {opt for param in command.params for opt in param.opts}
    assert {"--db", "--config", "-v"} <= names, path


def test_global_options_after_the_command_mean_the_same(archive: Archive) -> None:
    before = newsmon("--db", archive.db, "search", "香港", "--json", home=archive.home)
    after = newsmon("search", "香港", "--db", archive.db, "--json", home=archive.home)
    assert before.returncode == 0 and json.loads(before.stdout)
    assert (after.returncode, after.stdout) == (0, before.stdout)
    # the later one wins, as with any repeated option
    later = newsmon("--db", "sqlite:////nonexistent/x.db", "topics", "list", "--db",
                    archive.db, "--config", str(archive.config), home=archive.home)
    assert later.returncode == 0, later.stderr
    status = newsmon("status", "--json", "--config", str(archive.config), "--db", archive.db,
                     home=archive.home)
    sources = {s["source"] for s in json.loads(status.stdout)["sources"]}
    assert sources == {"dzwww", "qingdaonews", "bandao", "wenweipo"}


# -- 4. database URLs --------------------------------------------------------------------


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite:////nonexistent/x.db", "/nonexistent/x.db: directory /nonexistent does not exist "
     "(a mistyped path? `newsmon --db URL db upgrade` creates it)"),
    ("sqlite:////etc/passwd", "/etc/passwd: not a SQLite database (the file holds something "
     "else)"),
    ("sqlite:////etc", "/etc: is a directory, not a SQLite database file"),
    ("sqlite://", "sqlite://: an in-memory SQLite database keeps nothing after the command; "
     "give a file, e.g. sqlite:///news.db"),
    ("sqlite:///", "sqlite:///: an in-memory SQLite database keeps nothing after the "
     "command; give a file, e.g. sqlite:///news.db"),
])
def test_an_unusable_database_is_one_line_and_exit_3(url: str, message: str,
                                                     tmp_path: Path) -> None:
    result = newsmon("search", "香港", "--db", url, home=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        3, "", f"newsmon: error: {message}\n")
    assert not Path("/nonexistent").exists()


def test_a_new_directory_is_made_only_by_db_upgrade(tmp_path: Path) -> None:
    target = tmp_path / "typo" / "news.db"
    refused = newsmon("--db", f"sqlite:///{target}", "topics", "list", home=tmp_path)
    assert refused.returncode == 3 and not target.parent.exists()
    made = newsmon("--db", f"sqlite:///{target}", "db", "upgrade", home=tmp_path)
    assert made.returncode == 0 and target.is_file()
    listed = newsmon("--db", f"sqlite:///{target}", "topics", "list", home=tmp_path)
    assert (listed.returncode, listed.stdout) == (0, "(no results)\n")
    # in a directory that exists a new file is fine, and the default location is made
    assert newsmon("--db", f"sqlite:///{tmp_path / 'new.db'}", "topics", "list",
                   home=tmp_path).returncode == 0
    assert newsmon("topics", "list", home=tmp_path / "fresh").returncode == 0
    assert (tmp_path / "fresh" / "data" / "newsmon" / "newsmon.db").is_file()


# -- 5. exit codes and Ctrl-C ------------------------------------------------------------


def test_ctrl_c_on_a_running_crawl_exits_130_and_records_the_run_interrupted(
        sites: SampleSites, tmp_path: Path) -> None:
    config = tmp_path / "slow.toml"
    # one start page that answers after a few seconds: the crawl is waiting on it
    config.write_text(f'[[sources]]\nname = "slow"\nlists = ["{sites.base_url}/broken/slow.html'
                      f'?delay=3"]\nallowed_domains = ["127.0.0.1"]\n', encoding="utf-8")
    db = tmp_path / "news.db"
    crawl = subprocess.Popen([sys.executable, "-m", "newsmon", "--db", f"sqlite:///{db}",
                              "--config", str(config), "crawl"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=child_env(tmp_path))
    try:
        while not any("slow.html" in r.path for r in sites.requests.entries()):
            assert crawl.poll() is None, crawl.communicate()
            time.sleep(0.1)
        crawl.send_signal(signal.SIGINT)
        out, err = crawl.communicate(timeout=120)
    finally:
        crawl.kill()
    assert crawl.returncode == 130, err
    assert err.endswith("newsmon: interrupted (SIGINT); the runs are recorded as "
                        "interrupted\n")
    assert "topics not matched (interrupted)" in out
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT status, finish_reason FROM crawl_runs").fetchall()
    assert rows == [("interrupted", "shutdown")]
    status = newsmon("--db", f"sqlite:///{db}", "--config", str(config), "status", "--json",
                     home=tmp_path)
    assert status.returncode == 0  # stopped on purpose is not a failure
    assert json.loads(status.stdout)["sources"][0]["flags"] == ["interrupted"]


def test_exit_codes_for_usage_config_and_lookups(archive: Archive, tmp_path: Path) -> None:
    missing = newsmon("--config", str(tmp_path / "nope.toml"), "crawl", home=tmp_path)
    assert (missing.returncode, missing.stderr) == (
        3, f"newsmon: error: {tmp_path / 'nope.toml'}: config file does not exist\n")
    no_query = archive.run("search")
    assert no_query.returncode == 2 and no_query.stderr.startswith("Usage: newsmon search")
    not_found = archive.run("show", "999999")
    assert (not_found.returncode, not_found.stderr) == (
        1, "newsmon: error: no stored article with id 999999\n")


# -- 6. errors without noise -------------------------------------------------------------


def test_only_usage_errors_show_the_usage_block(archive: Archive) -> None:
    unknown = archive.run("search", "--xyzzy", "青岛")
    assert (unknown.returncode, unknown.stderr) == (2, (
        "Usage: newsmon search [OPTIONS] QUERY\nTry 'newsmon search -h' for help.\n\n"
        "newsmon: error: No such option '--xyzzy'.\n"))
    bad_query = archive.run("search", "青岛 OR")
    assert (bad_query.returncode, bad_query.stderr) == (2, (
        "newsmon: error: query position 5: expected a term or '(' after OR\n"
        "青岛 OR\n       ^\n"))  # the caret counts CJK characters two columns wide
    no_source = archive.run("search", "青岛", "--source", "nope")
    assert no_source.returncode == 2
    assert no_source.stderr.startswith("newsmon: error: no source named 'nope' (known: ")
    assert len(no_source.stderr.splitlines()) == 1
    no_topic = archive.run("topics", "remove", "nope")
    assert (no_topic.returncode, no_topic.stderr.count("\n")) == (2, 1)
    assert no_topic.stderr.startswith("newsmon: error: ")


@pytest.mark.parametrize(("text", "where", "words"), [
    ('[settings]\ntimezone = "Asia/Shanghai\n', "2:26", "unterminated string: the closing "
     "quote is missing"),
    ('[[sources]]\nname = "a"\nlists = []\n\n\n\nschedule = "0 7 * * *"\nschedule = "1"\n',
     "8:15", "duplicate key 'schedule' (first at line 7)"),
    ("[settings]\n[settings]\n", "2:10", "duplicate table [settings] (first at line 1)"),
    ('[settings]\ntimezone = Asia\n', "2:12", 'not a TOML value: text needs quotes '
     '(key = "text"), true/false and numbers do not'),
    ("[settings\n", "1:10", "unclosed table header: ']' is missing"),
    ('[settings]\nx = [1, 2\ny = 3\n', "2", "unclosed array: ']' is missing"),
    ("[[sources]]\narticle_pattern = \"\\d+\"\n", "2:22", "a backslash in a \"string\" starts "
     "an escape: write \\\\ or use a 'literal string' (single quotes), as for regular "
     "expressions"),
])
def test_toml_syntax_errors_are_explained_in_words(text: str, where: str, words: str) -> None:
    import tomllib

    with pytest.raises(tomllib.TOMLDecodeError) as caught:
        tomllib.loads(text)
    assert explain_toml_error(Path("sites.toml"), text, caught.value) == (
        f"sites.toml:{where}: TOML syntax: {words}")


def test_a_toml_error_is_one_line_without_the_usage_block(tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text('[settings]\ntimezone = "Asia/Shanghai"\n\n[[sources]]\nname = "a"\n'
                      'schedule = "0 7 * * *"\nlists = []\nschedule = "1"\n', encoding="utf-8")
    result = newsmon("--config", str(config), "crawl", home=tmp_path)
    assert (result.returncode, result.stderr) == (2, (
        f"newsmon: error: {config}:8:15: TOML syntax: duplicate key 'schedule' (first at "
        "line 6)\n"))


def _crawl_log(sites: SampleSites, tmp_path: Path, *verbosity: str) -> str:
    config = tmp_path / "sites.toml"
    config.write_text(sites.config_toml(), encoding="utf-8")
    db = tmp_path / f"news{len(verbosity)}{''.join(verbosity)}.db"
    result = newsmon("--config", str(config), "crawl", "-s", "dzwww", *verbosity,
                     "--db", f"sqlite:///{db}", home=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_v_shows_newsmon_debug_lines_and_vv_scrapy_too(sites: SampleSites,
                                                       tmp_path: Path) -> None:
    quiet = _crawl_log(sites, tmp_path)
    assert quiet == ""
    verbose = _crawl_log(sites, tmp_path, "-v")
    assert "[newsmon.crawler.pipelines] INFO: dzwww: new article http://" in verbose
    assert "[scrapy" not in verbose and "[alembic" not in verbose
    very = _crawl_log(sites, tmp_path, "-vv")
    assert "[scrapy.utils.log] INFO: Scrapy" in very
    assert "[newsmon.crawler.pipelines] INFO: dzwww: new article http://" in very


# -- 7. argv that is not UTF-8 -----------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    ([b"search", b"\xff"], "argument 2 is not valid UTF-8: b'\\xff' (byte 1 is 0xff)"),
    ([b"search", "青".encode() + b"\xe9"], "argument 2 is not valid UTF-8: "
     "b'\\xe9\\x9d\\x92\\xe9' (byte 4 is 0xe9)"),
    ([b"--db", b"sqlite:///\xfe.db", b"status"], "argument 2 is not valid UTF-8: "
     "b'sqlite:///\\xfe.db' (byte 11 is 0xfe)"),
])
def test_argv_that_is_not_utf8_is_one_line(args: Sequence[bytes], message: str,
                                           tmp_path: Path) -> None:
    result = newsmon(*args, home=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"newsmon: error: {message}\n")
