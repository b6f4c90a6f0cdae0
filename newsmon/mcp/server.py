"""The MCP server of ``newsmon mcp`` (stdio, the official ``mcp`` SDK).

Four tools — search, article, topic_test, new_matches — over the same use-cases of
:mod:`newsmon.app` the CLI, the pages and the HTTP API call, so an assistant asking
"what did Qingdao outlets say about the port this week?" gets what ``newsmon search``
would print. Nothing here writes: topics are changed through the CLI or the web.
Tools return JSON objects; a malformed query comes back as a tool error naming the
position, so the assistant can fix it and ask again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from newsmon.app import reading
from newsmon.app import topics as topic_cases
from newsmon.storage.engine import Database

INSTRUCTIONS = (
    "newsmon is an archive of regional Chinese news (Qingdao, Shandong, Hong Kong "
    "outlets). Search it with the topic query language: terms (Chinese needs no "
    "spaces), \"exact phrases\", OR, -term to exclude, parentheses, title:/body:/source: "
    "scopes. Simplified and Traditional characters find each other (青島 = 青岛). "
    "Use article for the full text and the story's other outlets.")


def _json(value: Any) -> Any:
    """Datetimes as ISO 8601 text, recursively (tool results are JSON)."""
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else value


@contextmanager
def _told_to_the_assistant() -> Iterator[None]:
    """Input the use-cases reject becomes a tool error the assistant reads (a malformed
    query with its position and a caret), not a crash."""
    try:
        yield
    except reading.QueryError as exc:
        raise ToolError(f"{exc}\n{exc.caret}") from None
    except reading.ReadingError as exc:
        raise ToolError(str(exc)) from None


def build_server(database: Database) -> MCPServer:
    server: MCPServer = MCPServer("newsmon", instructions=INSTRUCTIONS)

    @server.tool()
    def search(query: str, since: str | None = None, until: str | None = None,
               sources: list[str] | None = None, topics: list[str] | None = None,
               sort: str = "newest", limit: int = 20,
               cursor: str | None = None) -> dict[str, Any]:
        """Search stored articles, newest first (or sort="relevance").

        since/until: a duration back (7d, 12h) or an ISO date. Returns results with a
        snippet whose matched words are in [brackets], and next_cursor for more."""
        with _told_to_the_assistant():
            page = reading.search(database, reading.SearchRequest(
                query=query, sources=tuple(sources or ()), topics=tuple(topics or ()),
                since=since, until=until,
                sort="relevance" if sort == "relevance" else "newest",
                limit=max(1, min(limit, reading.MAX_PAGE)), cursor=cursor))
        return {"results": [{**reading.article_record(hit.article),
                             "snippet": hit.snippet.marked} for hit in page.hits],
                "next_cursor": page.next_cursor}

    @server.tool()
    def article(article_id: int) -> dict[str, Any]:
        """One stored article: full text, every extracted field (来源, 责编, times), the
        topics it matched and the same story at other outlets."""
        details = reading.article(database, article_id)
        if details is None:
            raise ToolError(f"no stored article with id {article_id}")
        return dict(_json(reading.article_json(details)))

    @server.tool()
    def topic_test(query: str, since: str | None = None, sample: int = 10) -> dict[str, Any]:
        """Try a query as a topic on the stored articles without saving it: how many
        would match, the newest matches, and warnings about too broad a query."""
        with _told_to_the_assistant():
            result = topic_cases.backtest(database, query, since=since,
                                          sample=max(0, min(sample, 100)))
        return result.as_json()

    @server.tool()
    def new_matches(cursor: str | None = None, topics: list[str] | None = None,
                    limit: int = 50) -> dict[str, Any]:
        """Topic matches flagged new since a cursor (from the start when none), oldest
        first; pass the returned cursor next time to get only newer ones."""
        with _told_to_the_assistant():
            found = reading.new_matches(database, cursor,
                                        max(1, min(limit, reading.MAX_PAGE)),
                                        tuple(topics or ()))
        return {"matches": [_json({
            "topic": m.topic, "article_id": m.article_id, "title": m.title, "url": m.url,
            "site": m.site, "source": m.source, "published_at": m.published_at,
            "matched_at": m.matched_at, "snippet": m.snippet, "story_id": m.story_id,
            "story_origin": m.story_origin}) for m in found.matches],
            "cursor": found.cursor, "more": found.more}

    return server


def serve_stdio(database: Database) -> None:
    """Run the server on stdin/stdout until the client closes it."""
    build_server(database).run("stdio")
