"""``newsmon mcp`` started as a subprocess and driven through the official SDK's stdio
client, over an archive a real crawl of the sample sites filled: its tools answer
what ``newsmon search``/``show``/``topics test`` answer."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.webapi_support import Archive, crawled_archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with crawled_archive("sqlite", tmp_path_factory.mktemp("mcp")) as filled:
        yield filled


def call_tools(archive: Archive, calls: list[tuple[str, dict[str, Any]]]
               ) -> tuple[list[str], list[Any]]:
    """The server's tool names, and each call's result (structured, or the error text)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    params = StdioServerParameters(
        command=sys.executable, env=env,
        args=["-m", "newsmon", "--db", archive.db_url, "--config", str(archive.config), "mcp"])

    async def session() -> tuple[list[str], list[Any]]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            tools = [tool.name for tool in (await client.list_tools()).tools]
            results: list[Any] = []
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                if result.is_error:
                    results.append(("error", " ".join(getattr(block, "text", "")
                                                      for block in result.content)))
                else:
                    results.append(result.structured_content)
            return tools, results

    return anyio.run(session)


def test_the_tools_answer_what_the_cli_answers(archive: Archive, tmp_path: Path) -> None:
    cli = json.loads(archive.newsmon("search", "青岛", "--json", "--limit", "5").stdout)
    trial = json.loads(archive.newsmon("topics", "test", "港口", "--json").stdout)
    tools, (found, traditional, detail, tested, matches, bad) = call_tools(archive, [
        ("search", {"query": "青岛", "limit": 5}),
        ("search", {"query": "青島", "limit": 5}),
        ("article", {"article_id": cli[0]["id"]}),
        ("topic_test", {"query": "港口"}),
        ("new_matches", {"limit": 500}),
        ("search", {"query": "(青岛"}),
    ])
    assert sorted(tools) == ["article", "new_matches", "search", "topic_test"]
    assert [r["id"] for r in found["results"]] == [r["id"] for r in cli]
    assert [r["id"] for r in traditional["results"]] == [r["id"] for r in cli]
    assert all("[" in r["snippet"] for r in found["results"])  # the matched words marked
    shown = json.loads(archive.newsmon("show", str(cli[0]["id"]), "--json").stdout)
    assert detail["body"] == shown["body"] and detail["title"] == shown["title"]
    assert tested["matched"] == trial["matched"]
    assert {m["topic"] for m in matches["matches"]} == {"qingdao"}
    assert bad[0] == "error" and "position" in bad[1]
