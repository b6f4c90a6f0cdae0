"""``newsmon search``, ``show`` and ``export`` on a real database (click's CliRunner),
and exports that stream: read a batch at a time, through a pipe, never all at once."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import event, update

from newsmon.cli import cli
from newsmon.cli.output import display_width
from newsmon.query import parse_query
from newsmon.storage.engine import Database
from newsmon.storage.matches import record_matches
from newsmon.storage.models import Article, Story
from newsmon.storage.search import FIRST_BATCH, MAX_BATCH, iter_search
from newsmon.storage.topics import add_topic
from newsmon.values import NewMatch
from tests.search_support import EDGE_CASES, T0, Sample, build_archive, store


@pytest.fixture
def url(sqlite_url: str) -> Iterator[str]:
    database = Database(sqlite_url)
    build_archive(database)
    database.dispose()
    yield sqlite_url


def run(url: str, tmp_path: Path, *args: str, columns: int = 100) -> Result:
    env = {"COLUMNS": str(columns), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "NEWSMON_CONFIG": ""}
    return CliRunner().invoke(cli, ["--db", url, *args], env=env)


def article_id(url: str, title_part: str) -> int:
    database = Database(url)
    with database.session() as session:
        [found] = [a.id for a in iter_search(session, parse_query(f'title:"{title_part}"'))]
    database.dispose()
    return found


# --------------------------------------------------------------------------------------
# search


def test_search_table_fits_the_terminal(url: str, tmp_path: Path) -> None:
    for width in (60, 100, 160):
        result = run(url, tmp_path, "search", "青島", columns=width)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["id", "published", "site", "source", "title"]
        assert len(lines) > 3
        assert all(display_width(line) <= width for line in lines), width
    assert "CST" in result.stdout  # local time in the default zone (Asia/Shanghai)


def test_search_json_csv_and_jsonl_carry_the_same_records(url: str, tmp_path: Path) -> None:
    as_json = json.loads(run(url, tmp_path, "search", "青岛", "--json", "--limit", "100").stdout)
    lines = run(url, tmp_path, "search", "青岛", "--jsonl", "--limit", "100").stdout
    as_jsonl = [json.loads(line) for line in lines.splitlines()]
    as_csv = list(csv.DictReader(io.StringIO(
        run(url, tmp_path, "search", "青岛", "--csv", "--limit", "100").stdout)))
    assert as_json == as_jsonl and len(as_json) > 2
    assert [int(row["id"]) for row in as_csv] == [r["id"] for r in as_json]
    assert {"id", "url", "title", "source", "site", "published_at", "story_id"} <= set(as_json[0])


def test_search_pages_and_says_when_there_is_more(url: str, tmp_path: Path) -> None:
    whole = [r["id"] for r in json.loads(run(url, tmp_path, "search", "的", "--json",
                                             "--limit", "1000").stdout)]
    first = run(url, tmp_path, "search", "的", "--json", "--limit", "10")
    second = run(url, tmp_path, "search", "的", "--json", "--limit", "10", "--page", "2")
    shifted = run(url, tmp_path, "search", "的", "--json", "--limit", "10", "--offset", "5")
    assert [r["id"] for r in json.loads(first.stdout)] == whole[:10]
    assert [r["id"] for r in json.loads(second.stdout)] == whole[10:20]
    assert [r["id"] for r in json.loads(shifted.stdout)] == whole[5:15]
    assert "more results: --page 2" in first.stderr
    assert "more results: --offset 15" in shifted.stderr
    last = run(url, tmp_path, "search", "的", "--json", "--limit", str(len(whole)))
    assert "more results" not in last.stderr
    assert run(url, tmp_path, "search", "的", "--count").stdout.strip() == str(len(whole))


def test_search_rejects_bad_input_naming_it(url: str, tmp_path: Path) -> None:
    bad_query = run(url, tmp_path, "search", "青岛 OR")
    assert bad_query.exit_code == 2 and "query position 5: expected a term" in bad_query.stderr
    no_topic = run(url, tmp_path, "search", "青岛", "--topic", "nope")
    assert no_topic.exit_code == 2 and "no topic named 'nope'" in no_topic.stderr
    no_source = run(url, tmp_path, "search", "青岛", "--source", "nope")
    assert no_source.exit_code == 2 and "no source named 'nope' (known: " in no_source.stderr
    both = run(url, tmp_path, "search", "青岛", "--page", "2", "--offset", "3")
    assert both.exit_code == 2 and "--page or --offset" in both.stderr
    bad_date = run(url, tmp_path, "search", "青岛", "--since", "yesterday")
    assert bad_date.exit_code == 2 and "'yesterday' is neither a duration" in bad_date.stderr


def test_search_with_topic_and_new_filters(url: str, tmp_path: Path) -> None:
    database = Database(url)
    with database.session() as session, session.begin():
        topic = add_topic(session, "qingdao", "青岛", T0)
        found = [a.id for a in iter_search(session, parse_query("青岛"))]
        record_matches(session, [NewMatch(topic.id, found[0], True, [], ""),
                                 NewMatch(topic.id, found[1], False, [], "")], T0)
    database.dispose()
    flagged = json.loads(run(url, tmp_path, "search", "的 OR 青岛", "--topic", "qingdao",
                             "--new", "--json").stdout)
    matched = json.loads(run(url, tmp_path, "search", "@qingdao", "--topic", "qingdao",
                             "--json").stdout)
    assert [r["id"] for r in flagged] == [found[0]]
    assert sorted(r["id"] for r in matched) == sorted(found[:2])


# --------------------------------------------------------------------------------------
# show


def test_show_prints_the_article_its_matches_and_its_story(url: str, tmp_path: Path) -> None:
    database = Database(url)
    one = article_id(url, "臺灣與青島的經濟")
    other = article_id(url, "AI-driven ports")
    with database.session() as session, session.begin():
        story = Story(first_seen=T0, origin="新华社")
        session.add(story)
        session.flush()
        session.execute(update(Article).where(Article.id.in_([one, other]))
                        .values(story_id=story.id))
        topic = add_topic(session, "qingdao", "青島", T0)
        record_matches(session, [NewMatch(topic.id, one, True, [{"variant": "青島"}],
                                          "…[青島]啤酒…")], T0)
    database.dispose()

    shown = run(url, tmp_path, "show", str(one))
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert text.startswith(f"#{one}  臺灣與青島的經濟\nhttp://edge.example.cn/a/")
    assert "site: edge  source: 新華社" in text
    assert "published 2024-05-01 16:00 CST" in text  # 08:00:01 UTC, shown in Shanghai time
    assert EDGE_CASES[1].body in text
    assert "qingdao  (flagged new, 2024-05-01 16:00 CST)  …[青島]啤酒…" in text
    assert "origin 新华社: no other outlet (1 other article)" in text  # same site
    assert f"#{other}  edge" in text and "AI-driven ports" in text

    data = json.loads(run(url, tmp_path, "show", str(one), "--json").stdout)
    assert data["body"] == EDGE_CASES[1].body and data["source"] == "新華社"
    assert data["published_at"] == "2024-05-01T08:00:01.000500+00:00"
    assert data["matches"] == [{"topic": "qingdao", "is_new": True,
                                "matched_at": "2024-05-01T08:00:00+00:00",
                                "snippet": "…[青島]啤酒…", "hits": [{"variant": "青島"}]}]
    assert [o["id"] for o in data["story"]["other_articles"]] == [other]


def test_show_of_an_unknown_id_fails_naming_it(url: str, tmp_path: Path) -> None:
    result = run(url, tmp_path, "show", "99999")
    assert result.exit_code == 1 and "no stored article with id 99999" in result.stderr
    assert run(url, tmp_path, "show", "abc").exit_code == 2


# --------------------------------------------------------------------------------------
# export


def test_export_writes_every_article_with_its_full_text(url: str, tmp_path: Path) -> None:
    result = run(url, tmp_path, "export")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    everything = run(url, tmp_path, "search", "...", "--count")  # sanity: fewer than all
    assert int(everything.stdout) < len(records) == 46
    assert "exported 46 articles" in result.stderr
    long_one = next(r for r in records if r["title"] == "很长的文章")
    assert long_one["body"] == EDGE_CASES[4].body  # 50,000+ characters, intact


def test_export_csv_round_trips_bodies_and_filters(url: str, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = run(url, tmp_path, "export", "青岛 OR 青島", "--format", "csv", "--source", "edge",
                 "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"to {target}" in result.stderr
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [row["title"] for row in rows] == ["臺灣與青島的經濟"]
    assert rows[0]["body"] == EDGE_CASES[1].body and rows[0]["site"] == "edge"


def test_iter_search_reads_in_bounded_batches(sqlite_url: str) -> None:
    """The first result costs one small batch; no statement ever asks for more than
    MAX_BATCH rows, however many articles there are."""
    database = Database(sqlite_url)
    samples = [Sample("s", f"第{i}篇", f"正文{i} 港口新闻", None, T0) for i in range(2500)]
    store(database, samples)
    limits: list[int] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT articles.id") and "LIMIT ? OFFSET ?" in statement:
            limits.append(parameters[-2])  # the LIMIT of a batch of rows with their text

    event.listen(database.engine, "before_cursor_execute", record)
    with database.session() as session:
        results = iter_search(session, None)
        next(results)
        assert limits == [FIRST_BATCH]
        rest = sum(1 for _ in results)
    assert rest == len(samples) - 1
    assert max(limits) == MAX_BATCH and len(limits) > 3
    database.dispose()


def test_export_streams_through_a_pipe(sqlite_url: str, tmp_path: Path) -> None:
    """A real `newsmon export` whose reader is slow: lines arrive while the export is
    still running (it cannot have loaded everything first), and all of them arrive."""
    database = Database(sqlite_url)
    store(database, [Sample("s", f"第{i}篇", "正文" * 200 + str(i), None, T0)
                     for i in range(3000)])
    database.dispose()
    env = {"PYTHONIOENCODING": "utf-8", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    child = subprocess.Popen([sys.executable, "-m", "newsmon", "--db", sqlite_url, "export"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert child.stdout is not None
    first = json.loads(child.stdout.readline())
    assert child.poll() is None  # 3000 × 1.2 kB does not fit a pipe: still writing
    rest = child.stdout.readlines()
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 0, stderr
    assert first["title"].startswith("第") and len(rest) == 2999
    assert b"exported 3000 articles" in stderr
