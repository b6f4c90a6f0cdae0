"""``newsmon sources remove [--purge]`` and ``sources add`` of a URL already configured.

Removal keeps every other byte of the config file; ``--purge`` leaves no row of the
source in any table, checked on SQLite and PostgreSQL after a real crawl, matching
and digest of the sample sites.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from newsmon.config import load_config
from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.models import Article, Base, Match, Source, Story
from tests.conftest import Newsmon, with_settings

HEAD = """# my sources, hand-written
[settings]
timezone = "Asia/Shanghai"   # keep this comment

"""
FIRST = """[[sources]]
name = "first"
lists = ["https://first.example.cn/news/"]   # trailing comment

"""
MIDDLE = """# added by `newsmon sources add https://middle.example.cn/`
[[sources]]
name = "middle"
lists = [
  "https://middle.example.cn/a/",
  "https://middle.example.cn/b/",
]

[sources.politeness]
download_delay = 2.0

"""
LAST = """# the last one, kept with its comment
[[sources]]
name = "last"
feeds = ["https://last.example.cn/rss.xml"]

[[subscriptions]]
name = "desk"
"""


def test_remove_cuts_out_the_entry_and_keeps_every_other_byte(tmp_path: Path,
                                                               sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_bytes((HEAD + FIRST + MIDDLE + LAST).encode())
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    result = newsmon("sources", "remove", "middle")
    assert result.stderr == f"removed source 'middle' from {config}\n"
    assert config.read_bytes() == (HEAD + FIRST + LAST).encode()
    newsmon("sources", "remove", "last")
    assert config.read_bytes() == (HEAD + FIRST + LAST[LAST.index("[[subscriptions]]"):]).encode()
    unknown = newsmon("sources", "remove", "nosuch", check=False)
    assert unknown.returncode == 2 and "unknown source 'nosuch'" in unknown.stderr


def test_add_of_a_configured_url_names_the_source_and_adds_nothing(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(sites.config_toml(), encoding="utf-8")
    before = config.read_bytes()
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    bandao = load_config(config).source("bandao")
    url = sites.url("/bandao/news/index.html")
    again = newsmon("sources", "add", url, check=False)
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == (f"{config}:{bandao.line}: {url} is already configured as source "
                            "'bandao'; nothing added (--force adds a second source)\n")
    assert config.read_bytes() == before
    forced = newsmon("sources", "add", url, "--force")
    assert "added source 'bandao-2'" in forced.stderr
    assert [s.name for s in load_config(config).sources][-1] == "bandao-2"


def test_add_refuses_a_url_whose_feed_is_already_configured(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    feed = sites.url("/qingdaonews/rss/roll.xml")
    config = tmp_path / "sites.toml"
    config.write_text(f'[[sources]]\nname = "qd-feed"\nfeeds = ["{feed}"]\n', encoding="utf-8")
    result = Newsmon(sqlite_url, config, home=tmp_path / "home")(
        "sources", "add", sites.url("/qingdaonews/news/roll.htm"), check=False)
    assert result.returncode == 1
    assert result.stderr.endswith(f"{config}:1: {feed} is already configured as source "
                                  "'qd-feed'; nothing added (--force adds a second source)\n")
    assert [s.name for s in load_config(config).sources] == ["qd-feed"]


def _rows_of(db_url: str, source_id: int, article_ids: set[int], match_ids: set[int]
             ) -> dict[str, int]:
    """Per table, the rows that still point at the source, its articles or matches."""
    database = Database(db_url)
    found: dict[str, int] = {}
    with database.session() as session:
        for table in Base.metadata.sorted_tables:
            for column, ids in (("source_id", {source_id}), ("article_id", article_ids),
                                ("match_id", match_ids)):
                if column in table.c and ids:
                    count = len(session.execute(select(table.c[column]).where(
                        table.c[column].in_(ids))).all())
                    if count:
                        found[f"{table.name}.{column}"] = count
        empty_stories = session.scalars(select(Story.id).where(
            ~select(Article.id).where(Article.story_id == Story.id).exists())).all()
        if empty_stories:
            found["stories without articles"] = len(empty_stories)
    database.dispose()
    return found


def test_purge_leaves_no_row_of_the_source(sites: SampleSites, tmp_path: Path,
                                           db_url: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"'),
                      encoding="utf-8")
    newsmon = Newsmon(db_url, config, home=tmp_path / "home")
    newsmon("topics", "add", "青島", "青島")
    newsmon("crawl", "--source", "dzwww", "--source", "bandao")
    newsmon("digest")  # deliveries, and digest runs that are not the source's
    database = Database(db_url)
    with database.session() as session:
        source_id = session.scalar(select(Source.id).where(Source.name == "dzwww"))
        assert source_id is not None
        article_ids = set(session.scalars(select(Article.id).where(
            Article.source_id == source_id)))
        match_ids = set(session.scalars(select(Match.id).where(
            Match.article_id.in_(article_ids))))
    database.dispose()
    before = _rows_of(db_url, source_id, article_ids, match_ids)
    # the check sees the source's rows in every kind of table before the purge
    assert {"articles.source_id", "url_ledger.source_id", "crawl_runs.source_id",
            "matches.article_id", "deliveries.match_id", "story_bands.article_id",
            "article_fingerprints.article_id"} <= set(before)

    hits = json.loads(newsmon("search", "中国", "--json").stdout)
    assert {hit["site"] for hit in hits} == {"dzwww", "bandao"}

    result = newsmon("sources", "remove", "dzwww", "--purge")
    assert "purged source 'dzwww' from " in result.stderr
    assert f"{len(article_ids)} articles" in result.stderr
    assert _rows_of(db_url, source_id, article_ids, match_ids) == {}
    assert [s.name for s in load_config(config).sources] == ["qingdaonews", "bandao",
                                                             "wenweipo"]
    # the search index forgot the purged articles and still finds the other site's
    found = json.loads(newsmon("search", "中国", "--json").stdout)
    assert found == [hit for hit in hits if hit["site"] == "bandao"]
