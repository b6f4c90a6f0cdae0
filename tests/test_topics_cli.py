"""``newsmon topics`` on a real crawl of the sample sites."""

from __future__ import annotations

import json

from tests.conftest import Newsmon


def test_topics_test_previews_without_saving_and_warns_about_short_terms(
        newsmon: Newsmon) -> None:
    newsmon("crawl", "--source", "dzwww")
    preview = json.loads(newsmon("topics", "test", "青岛", "--json").stdout)
    assert preview["matched"] >= 1 and preview["scanned"] >= preview["matched"]
    [first, *_] = preview["sample"]
    assert "換道超越" in first["title"] and first["matched"] == ["青島"]

    short = newsmon("topics", "test", "青")
    assert "term '青' is so short" in short.stderr
    assert json.loads(newsmon("topics", "list", "--json").stdout) == []

    added = newsmon("topics", "add", "港", "港")
    assert "is so short" in added.stderr


def test_a_malformed_query_is_rejected_with_its_position_and_nothing_is_stored(
        newsmon: Newsmon) -> None:
    result = newsmon("topics", "add", "bad", "青岛 OR (烟台", check=False)
    assert result.returncode == 2
    assert "query position" in result.stderr and "^" in result.stderr
    assert json.loads(newsmon("topics", "list", "--json").stdout) == []


def test_topics_list_and_remove(newsmon: Newsmon) -> None:
    newsmon("topics", "add", "qingdao", "青島 OR Qingdao")
    [row] = json.loads(newsmon("topics", "list", "--json").stdout)
    assert (row["name"], row["query"], row["matches"]) == ("qingdao", "青島 OR Qingdao", 0)
    assert "removed" in newsmon("topics", "remove", "qingdao").stdout
    gone = newsmon("topics", "remove", "qingdao", check=False)
    assert gone.returncode == 2 and "no topic named 'qingdao'" in gone.stderr
