"""Property: whatever string a hostile page puts in any field (text nodes, attributes,
numeric entities, JSON-LD) gives an article that stores on SQLite and PostgreSQL and
comes back unchanged through ``export`` (JSON lines, CSV), ``search --json`` and
``show --json``, with nothing a terminal would obey in ``show``'s text.

The database is filled by the real extract -> normalise -> store path
(``tests/sanitise_support.py``); the CLI runs in-process (click's CliRunner).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from newsmon.cli import cli
from newsmon.storage.engine import Database
from newsmon.storage.models import Article
from tests.sanitise_support import PLACES, hostile_page, store_page
from tests.test_sanitise import FORBIDDEN

HOSTILE = [
    "\x00",
    "\x01",
    "\x07",
    "\x1b",
    "\x1b[31m",
    "\x1b]0;pwned\x07",
    "\x1b]8;;x\x1b\\",
    "\x7f",
    "\x85",
    "\x9b",
    "\r",
    "\r\n",
    "\t",
    "\ud800",
    "\udfff",
    "\ufdd0",
    "\ufffe",
    "\uffff",
    "\U0001fffe",
    "\U0010ffff",
    "\u202e",
    "\u2066",
    "\u2069",
    "&",
    "<",
    '"',
    "'",
    "]]>",
    "</script>",
    "\\",
    "青島",
    ",",
    "\n",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.characters(codec=None)), max_size=12
).map("".join)
places = st.sets(st.sampled_from(PLACES), min_size=1).map(frozenset)
_ids = itertools.count()


def run(url: str, tmp_path: Path, *args: str) -> str:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "NEWSMON_CONFIG": "", "COLUMNS": "120"}
    result = CliRunner().invoke(cli, ["--db", url, *args], env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def stored(database: Database, article_id: int) -> dict[str, Any]:
    with database.session() as session:
        row = session.scalars(select(Article).where(Article.id == article_id)).one()
        return {
            "title": row.title,
            "body": row.body,
            "source": row.source,
            "author": row.author,
            "editor": row.editor,
            "tags": list(row.tags),
            "url": row.canonical_url,
            "fetched_url": row.url,
        }


def check_roundtrip(database: Database, tmp_path: Path, text: str, where: frozenset[str]) -> None:
    url = f"http://news.example.cn/a/{next(_ids)}.html"
    article_id = store_page(database, hostile_page(text, where, url), url)
    if article_id is None:  # judged no article (e.g. "binary"): nothing was stored
        return
    want = stored(database, article_id)
    for value in [
        want["title"],
        want["body"],
        want["source"] or "",
        want["author"] or "",
        want["editor"] or "",
        want["url"],
        *want["tags"],
    ]:
        assert not FORBIDDEN.search(value), repr(value)
    db_url = database.url

    exported = [
        json.loads(line)
        for line in run(db_url, tmp_path, "export", "--format", "jsonl").splitlines()
    ]
    [record] = [r for r in exported if r["id"] == article_id]
    assert {k: record[k] for k in want} == want

    exported_csv = run(db_url, tmp_path, "export", "--format", "csv").removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported_csv)))  # (the BOM is for Excel)
    [row] = [r for r in rows if int(r["id"]) == article_id]
    for key in ("title", "body", "url", "fetched_url"):
        assert row[key] == want[key], key
    assert row["source"] == (want["source"] or "")

    shown = json.loads(run(db_url, tmp_path, "show", str(article_id), "--json"))
    assert {k: shown[k] for k in want} == want
    text_view = run(db_url, tmp_path, "show", str(article_id))
    assert not FORBIDDEN.search(text_view.replace("\n", "").replace("\t", ""))
    assert want["title"] in text_view

    if "港口" not in want["title"] + want["body"]:
        return  # a raw lone surrogate can make the page decode as another charset
    found = json.loads(run(db_url, tmp_path, "search", "港口", "--json", "--limit", "1000"))
    [hit] = [r for r in found if r["id"] == article_id]
    assert hit["title"] == want["title"] and hit["source"] == want["source"]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=hostile_text, where=places)
def test_any_string_in_any_field_stores_and_round_trips(
    database: Database, tmp_path: Path, text: str, where: frozenset[str]
) -> None:
    check_roundtrip(database, tmp_path, text, where)


def test_the_roundtrip_stores_hostile_articles(database: Database, tmp_path: Path) -> None:
    """The property is not vacuous: these pages are articles and are stored."""
    for text in ("\x00\x1b[31m\ud800\ufffe\u202e", "\x1b]0;x\x07\r\n\U0010ffff"):
        before = len(run(database.url, tmp_path, "export").splitlines())
        check_roundtrip(database, tmp_path, text, frozenset({"entity", "json"}))
        assert len(run(database.url, tmp_path, "export").splitlines()) == before + 1
