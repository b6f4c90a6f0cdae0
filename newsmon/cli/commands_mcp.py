"""``newsmon mcp``: serve the archive to an AI assistant over stdio (MCP)."""

from __future__ import annotations

import click

from newsmon.cli.context import AppContext, pass_app


@click.command("mcp")
@pass_app
def command(app: AppContext) -> None:
    """Serve search, article, topic test and new matches as MCP tools on stdio.

    For an AI assistant (Claude Desktop, an IDE, an agent) that speaks the Model
    Context Protocol: it starts this command and talks JSON-RPC on its stdin and
    stdout. Read-only: nothing is stored or changed.

    \b
    Example:
      newsmon --config sites.toml mcp
      {"command": "newsmon", "args": ["--db", "sqlite:////srv/news.db", "mcp"]}
    """
    from newsmon.mcp.server import serve_stdio

    serve_stdio(app.database)
