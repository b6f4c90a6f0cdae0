"""An archive filled by a real crawl, and ``newsmon serve``'s app on a free port, for
the web tests.

The archive: the sample sites crawled on day one and day two (with the topic 青島),
plus a one-article site whose headline is markup (``<img src=x onerror=alert(1)>``),
crawled like any other source. The server: the real app under uvicorn on port 0, in a
thread of the test process.
"""

from __future__ import annotations

import html
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn

from newsmon.config import load_config
from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.web.access import Access
from newsmon.web.app import WebSettings, create_app

TOKEN = "web-test-token-1234"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"
HOSTILE_BODY = "<script>alert(2)</script>"


def _hostile_pages(body_paragraphs: list[str]) -> dict[str, bytes]:
    paragraphs = "".join(f"<p>{html.escape(text)}</p>" for text in
                         [*body_paragraphs, HOSTILE_BODY])
    article = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(HOSTILE_TITLE)}</title></head><body>"
        f"<h1>{html.escape(HOSTILE_TITLE)}</h1>"
        '<div class="info">2020-01-13 08:46 来源：标记测试网</div>'
        f'<div class="content">{paragraphs}</div></body></html>')
    index = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>列表</title></head>'
             '<body><ul><li><a href="/xss/a/1.html">标记测试新闻标题一则</a></li></ul>'
             "</body></html>")
    return {"/xss/index.html": index.encode(), "/xss/a/1.html": article.encode()}


@contextmanager
def hostile_title_site(body_paragraphs: list[str]) -> Iterator[str]:
    """A site serving one article whose headline is markup; yields its base URL."""
    pages = _hostile_pages(body_paragraphs)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0])
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def hostile_source_toml(base: str) -> str:
    return (f'\n[[sources]]\nname = "markup"\ntimezone = "Asia/Shanghai"\n'
            f'lists = ["{base}/xss/index.html"]\narticle_pattern = "/xss/a/"\n'
            'allowed_domains = ["127.0.0.1"]\n\n[sources.politeness]\n'
            "obey_robots = false\ndownload_delay = 0.0\n")


@dataclass(frozen=True)
class Archive:
    db_url: str
    config: Path


def newsmon(archive: Archive, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "newsmon", "--db", archive.db_url,
                             "--config", str(archive.config), *args],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, (f"newsmon {' '.join(args)} exited {result.returncode}\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result.stdout


def crawl_archive(folder: Path) -> Archive:
    """Crawl the sample sites (day one, then day two) and the markup site."""
    archive = Archive(f"sqlite:///{folder / 'web.db'}", folder / "sites.toml")
    with SampleSites(day=1) as sites:
        paragraphs = [block.text for block in sites.articles("bandao")[0].body]
        with hostile_title_site(paragraphs) as hostile:
            config = sites.config_toml().replace(
                "[settings]\n", '[settings]\nbackfill_window = "off"\n', 1)
            archive.config.write_text(config + hostile_source_toml(hostile),
                                      encoding="utf-8")
            newsmon(archive, "topics", "add", "qingdao", "青島")
            newsmon(archive, "crawl")
            sites.set_day(2)
            newsmon(archive, "crawl")
    return archive


@contextmanager
def serving(archive: Archive, token: str | None = TOKEN, read_only: bool = False
            ) -> Iterator[str]:
    """``newsmon serve``'s app on a free port; yields its base URL."""
    database = Database(archive.db_url)
    settings = WebSettings(database, load_config(archive.config),
                           Access(token, read_only=read_only))
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        database.dispose()
