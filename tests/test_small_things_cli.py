"""The small things of everyday use (issue 15, point 8), each through the CLI on a real
SQLite file: local times with their zone, one duration format, CSV for Excel, digest
files that never overwrite, a status line that names the file, Atom refused on stdout,
tables that fit the terminal, the broad-topic warning, outlets counted as outlets, the
demo's progress, cron checked at config load and ``--dry-run`` checking channels."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsmon.cli import cli
from newsmon.cli.commands_demo import _Steps
from newsmon.cli.commands_topics import broad_match_warning
from newsmon.storage.engine import Database
from newsmon.timefmt import format_duration, local_time
from tests.digest_support import SHANGHAI, make_story, seed_two_topics, store_article

CONFIG = '[settings]\ntimezone = "Asia/Shanghai"\n'


@pytest.fixture
def seeded(sqlite_url: str) -> tuple[str, dict[str, int]]:
    database = Database(sqlite_url)
    ids = seed_two_topics(database)
    database.dispose()
    return sqlite_url, ids


def newsmon(db_url: str, tmp_path: Path, *args: str, config: str = CONFIG,
            columns: int = 120) -> Result:
    path = tmp_path / "newsmon.toml"
    path.write_text(config, encoding="utf-8")
    return CliRunner().invoke(cli, ["--db", db_url, "--config", str(path), *args],
                              env={"COLUMNS": str(columns)})


def cells(text: str) -> int:
    """Terminal cells, counted independently of the code under test."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --------------------------------------------------------------------------------------
# 1 and 10: one local_time, one format_duration


def test_local_time_names_the_zone_and_json_stays_utc(seeded: tuple[str, dict[str, int]],
                                                      tmp_path: Path) -> None:
    moment = dt.datetime(2024, 5, 1, 1, 0, 5, tzinfo=dt.UTC)
    assert local_time(moment, "Asia/Shanghai") == "2024-05-01 09:00 CST"
    assert local_time(moment, "Asia/Shanghai", seconds=True) == "2024-05-01 09:00:05 CST"
    assert local_time(None, "Asia/Shanghai") == "time unknown"

    url, ids = seeded
    shown = newsmon(url, tmp_path, "show", str(ids["original"]))
    assert shown.exit_code == 0, shown.output
    assert "published 2024-05-01 09:00 CST" in shown.stdout
    as_json = json.loads(newsmon(url, tmp_path, "show", str(ids["original"]), "--json").stdout)
    assert as_json["published_at"] == "2024-05-01T01:00:00+00:00"

    elsewhere = newsmon(url, tmp_path, "show", str(ids["original"]),
                        config='[settings]\ntimezone = "Europe/Berlin"\n')
    assert "published 2024-05-01 03:00 CEST" in elsewhere.stdout


@pytest.mark.parametrize(("seconds", "shown"), [
    (3.3, "3.3s"), (0.04, "0.0s"), (59.9, "59.9s"), (65, "1m 05s"), (7380, "2h 03m"),
])
def test_durations_have_one_format(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


# --------------------------------------------------------------------------------------
# 2 and 4: CSV for Excel; the status line names the file


def test_csv_export_starts_with_a_bom_unless_told_not_to(seeded: tuple[str, dict[str, int]],
                                                        tmp_path: Path) -> None:
    url, _ = seeded
    report = tmp_path / "report.csv"
    result = newsmon(url, tmp_path, "export", "--format", "csv", "-o", str(report))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"exported 4 articles to {report}\n"
    data = report.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,url,")
    assert "青島港開通新航線" in data.decode("utf-8-sig")

    plain = newsmon(url, tmp_path, "export", "--format", "csv", "--no-bom")
    assert plain.stdout.startswith("id,url,")
    jsonl = newsmon(url, tmp_path, "export")
    assert jsonl.stdout.startswith("{")  # only CSV gets the mark


# --------------------------------------------------------------------------------------
# 3 and 4: {time} has seconds, never overwrites, and the status line names the file


def test_timestamped_digest_files_never_overwrite(seeded: tuple[str, dict[str, int]],
                                                  tmp_path: Path) -> None:
    url, _ = seeded
    out = tmp_path / "out"
    out.mkdir()
    # Digests of every second of the next two minutes are there already: the new one
    # must take the next free suffix rather than replace one.
    now = dt.datetime.now(SHANGHAI)
    for offset in range(120):
        moment = now + dt.timedelta(seconds=offset)
        (out / f"desk-{moment:%Y-%m-%d-%H%M%S}.txt").write_text("older", encoding="utf-8")
    config = CONFIG + ('[[subscriptions]]\nname = "desk"\n'
                       'channel = "file:out/desk-{date}-{time}.txt"\n')
    result = newsmon(url, tmp_path, "digest", config=config)
    assert result.exit_code == 0, result.output
    [written] = [p for p in out.iterdir() if p.read_text(encoding="utf-8") != "older"]
    assert re.fullmatch(r"desk-\d{4}-\d\d-\d\d-\d{6}-2\.txt", written.name)
    assert "青島港開通新航線" in written.read_text(encoding="utf-8")
    assert result.stderr == f"digest desk: wrote 4 matches to {written} (text)\n"
    assert len(list(out.iterdir())) == 121


# --------------------------------------------------------------------------------------
# 5: Atom to stdout


def test_atom_to_stdout_is_refused(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    url, _ = seeded
    result = newsmon(url, tmp_path, "digest", "--format", "atom")
    assert result.exit_code == 2
    assert result.stderr == ("newsmon: error: Atom is one feed per topic and cannot go to "
                             "stdout; write the feeds with --to file:DIR/\n")
    assert result.stdout == ""
    feeds = newsmon(url, tmp_path, "digest", "--format", "atom", "--to",
                    f"file:{tmp_path / 'feeds'}/")
    assert feeds.exit_code == 0, feeds.output
    assert sorted(p.name for p in (tmp_path / "feeds").iterdir()) == ["烟台.atom", "青島.atom"]


# --------------------------------------------------------------------------------------
# 6: tables fit the terminal


def test_tables_fit_sixty_columns(seeded: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    url, _ = seeded
    long_query = " OR ".join(["青島港口航線開通儀式隆重舉行", "烟台苹果节今天开幕"] * 4)
    added = newsmon(url, tmp_path, "topics", "add", "港口", long_query)
    assert added.exit_code == 0, added.output
    for args in (("search", "青島"), ("topics", "list"), ("status",)):
        result = newsmon(url, tmp_path, *args, columns=60)
        assert result.exit_code in (0, 1), result.output
        lines = result.stdout.splitlines()
        assert lines, args
        assert max(cells(line) for line in lines) <= 60, (args, result.stdout)
    topics = newsmon(url, tmp_path, "topics", "list", columns=60).stdout
    assert "…" in topics  # the long query was cut, not wrapped


# --------------------------------------------------------------------------------------
# 7: the broad-topic warning


@pytest.mark.parametrize(("matched", "total", "warns"), [
    (6, 20, True), (5, 20, False), (19, 19, False), (30, 100, True), (29, 100, False),
])
def test_broad_warning_needs_thirty_percent_of_twenty(matched: int, total: int,
                                                      warns: bool) -> None:
    assert bool(broad_match_warning(matched, total)) is warns


def test_a_small_archive_never_warns(seeded: tuple[str, dict[str, int]],
                                     tmp_path: Path) -> None:
    url, _ = seeded
    result = newsmon(url, tmp_path, "topics", "add", "港口", "今天")  # all 4 articles
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added topic '港口': 4 of 4 stored articles match")
    assert result.stderr == ""


# --------------------------------------------------------------------------------------
# 8: outlets, not articles


def test_show_counts_other_outlets_not_articles(seeded: tuple[str, dict[str, int]],
                                                tmp_path: Path) -> None:
    url, ids = seeded
    story = newsmon(url, tmp_path, "show", str(ids["original"])).stdout
    assert re.search(r"^Story \d+, origin 新華社: 1 other outlet$", story, re.M), story

    database = Database(url)
    again = store_article(database, "bandao", "http://bd.example/n/99.html", "青岛港新航线",
                          "青岛港今天开通新航线。", dt.datetime(2024, 5, 1, 11, 0, tzinfo=SHANGHAI),
                          outlet="新华社")
    make_story(database, [ids["original"], ids["copy"], again], origin="新華社")
    database.dispose()
    story = newsmon(url, tmp_path, "show", str(ids["original"])).stdout
    assert re.search(r"^Story \d+, origin 新華社: 1 other outlet \(2 other articles\)$",
                     story, re.M), story


# --------------------------------------------------------------------------------------
# 9: the demo's progress


def test_demo_steps_are_numbered_and_timed(capsys: pytest.CaptureFixture[str]) -> None:
    steps = _Steps(2)
    with steps.step("Day one: crawl"):
        pass
    with steps.step("Day one: digest"):
        pass
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines[0] == "### [1/2] Day one: crawl"
    assert re.fullmatch(r"\[1/2\] done in \d+\.\ds", lines[1])
    assert lines[2] == "### [2/2] Day one: digest"
    assert re.fullmatch(r"\[2/2\] done in \d+\.\ds", lines[3])


# --------------------------------------------------------------------------------------
# 11: cron at config load


@pytest.mark.parametrize("table", ["sources", "subscriptions"])
def test_a_bad_cron_is_a_config_error_for_search_too(seeded: tuple[str, dict[str, int]],
                                                     tmp_path: Path, table: str) -> None:
    url, _ = seeded
    entry = ('lists = ["https://news.example.cn/"]\n' if table == "sources"
             else 'channel = "stdout"\n')
    config = CONFIG + f'\n[[{table}]]\nname = "x"\n{entry}schedule = "0 25 * * *"\n'
    result = newsmon(url, tmp_path, "search", "青島", config=config)
    assert result.exit_code == 2
    path = tmp_path / "newsmon.toml"
    assert result.stderr.startswith(f"newsmon: error: {path}:7: ")  # the schedule's line
    assert "'0 25 * * *'" in result.stderr and result.stderr.count("\n") == 1


# --------------------------------------------------------------------------------------
# 12: --dry-run checks channels and recipients


@pytest.mark.parametrize(("channel", "extra", "message"), [
    ("webhook:ftp://hooks.example.org/x", "", "webhook:ftp://hooks.example.org/…: a webhook "
     "needs an http(s) URL"),
    ("smtp://mail.example.org:587", 'email_to = ["desk.example.org"]\n',
     "smtp://mail.example.org:587: 'desk.example.org' is not an e-mail address"),
    ("smtp://mail.example.org:587?to=a@@b", "",
     "smtp://mail.example.org:587/…: 'a@@b' is not an e-mail address"),
    ("bogus://somewhere", "", "bogus://…: unknown channel scheme 'bogus'"),
    ("nonsense", "", "…: not a channel"),
])
def test_dry_run_refuses_a_channel_that_cannot_work(seeded: tuple[str, dict[str, int]],
                                                    tmp_path: Path, channel: str, extra: str,
                                                    message: str) -> None:
    url, _ = seeded
    config = CONFIG + f'\n[[subscriptions]]\nname = "desk"\nchannel = "{channel}"\n{extra}'
    result = newsmon(url, tmp_path, "digest", "--dry-run", config=config)
    assert result.exit_code == 2, result.output
    path = tmp_path / "newsmon.toml"
    assert result.stderr.startswith(f"newsmon: error: {path}:4: subscription 'desk': ")
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_dry_run_still_previews_a_good_channel(seeded: tuple[str, dict[str, int]],
                                               tmp_path: Path) -> None:
    url, _ = seeded
    config = CONFIG + ('\n[[subscriptions]]\nname = "desk"\nchannel = "smtp://mail.example.org"'
                       '\nemail_to = ["desk@example.org"]\n')
    result = newsmon(url, tmp_path, "digest", "--dry-run", config=config)
    assert result.exit_code == 0, result.output
    assert "青島港開通新航線" in result.stdout
