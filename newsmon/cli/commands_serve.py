"""``newsmon serve``: the web view and the HTTP API over the same archive (uvicorn).

Binds 127.0.0.1 unless told otherwise: the pages are open to read, and only a token
from ``NEWSMON_WEB_TOKEN`` allows changes (see :mod:`newsmon.web.access`).
"""

from __future__ import annotations

import click

from newsmon.cli.context import AppContext, UserError, pass_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; put a TLS proxy in "
              "front of it).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--read-only", is_flag=True,
              help="Refuse every change, even with the token.")
@pass_app
def command(app: AppContext, host: str, port: int, read_only: bool) -> None:
    """Serve the web view (New, Search, Topics, Sources, Runs, Feeds) and the JSON API.

    Reading is open to whoever can reach the address. Adding, editing or removing
    topics needs the token in NEWSMON_WEB_TOKEN (at least 8 characters): give it once
    on the login page, or send 'Authorization: Bearer TOKEN' to the API. Without the
    variable, or with --read-only, nothing can be changed through the web.

    \b
    Example:
      NEWSMON_WEB_TOKEN=$(openssl rand -hex 16) newsmon serve
      newsmon serve --port 8080 --read-only
      newsmon --db postgresql://news@db/newsmon serve --host 0.0.0.0
    """
    import uvicorn

    from newsmon.web.access import Access, token_from_environment
    from newsmon.web.app import WebSettings, create_app

    try:
        token = token_from_environment()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    settings = WebSettings(app.database, app.config, Access(token, read_only=read_only))
    writes = ("read-only" if read_only else "topics editable with the token" if token
              else "read-only: NEWSMON_WEB_TOKEN is not set")
    click.echo(f"newsmon serve: {writes}; Ctrl-C stops", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                server_header=False)
