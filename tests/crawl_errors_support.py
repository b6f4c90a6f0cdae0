"""A real HTTP server on 127.0.0.1 (port 0) whose every answer a test writes, for the
crawl-error tests (tests/test_crawl_errors.py): slow trickles, odd encodings,
redirects to other schemes, robots.txt that cannot be read."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.local_http import Answer, LocalServer, send

TITLE = "港府公布新措施"


def article_html(title: str = TITLE) -> bytes:
    """An article page the extractor accepts (a headline and five paragraphs)."""
    body = "".join(f"<p>第{i}段：政府今日公布新一輪支援措施，涵蓋中小企、零售及旅遊業，"
                   f"預計惠及數十萬市民。官員表示，措施將於下月起分階段推行。</p>"
                   for i in range(1, 6))
    return (f"<html><head><meta charset='utf-8'><title>{title} - 測試報</title></head>"
            f"<body><div class='main'><h1>{title}</h1><p class='info'>2024年3月2日 08:00</p>"
            f"<div class='content'>{body}</div></div></body></html>").encode()


def list_html(*links: str) -> bytes:
    items = "".join(f"<li><a href='{link}'>新聞標題第{n}則的內容摘要</a></li>"
                    for n, link in enumerate(links, start=1))
    return (f"<html><head><meta charset='utf-8'><title>新聞列表</title></head>"
            f"<body><ul class='news'>{items}</ul></body></html>").encode()


def redirect(location: str, status: int = 302) -> Answer:
    return send(status, b"", headers={"Location": location})


def trickle(every: float = 1.0, total: int = 3600) -> Answer:
    """200, then one byte of the body every ``every`` seconds (never timing out a read)."""
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        try:
            for _ in range(total):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            return  # the client gave up: what the test wants
    return answer


def gzip_transfer_encoded(plain_bytes: int) -> Answer:
    """A body sent with ``Transfer-Encoding: gzip`` (no chunking): a gzip bomb when
    ``plain_bytes`` is large."""
    body = gzip.compress(b"\0" * plain_bytes, compresslevel=9)

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Transfer-Encoding", "gzip")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True
    return answer


def slow(seconds: float, answer: Answer) -> Answer:
    def delayed(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        answer(handler)
    return delayed


class LocalSite:
    """``routes`` maps a path to its answer; other paths are 404. ``requests`` lists the
    paths asked for, in order."""

    def __init__(self, routes: dict[str, Answer]) -> None:
        self.routes = routes
        self.requests: list[str] = []
        self.server = LocalServer(self._answer, http11=True)
        self.base = self.server.base

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(handler.path)
        self.routes.get(handler.path, send(404, b"not found"))(handler)

    def url(self, path: str) -> str:
        return self.base + path

    def config(self, path: Path, *, lists: list[str], settings: str = "") -> Path:
        """A config with one source ``local`` on this server."""
        urls = ", ".join(f'"{self.url(p)}"' for p in lists)
        path.write_text(
            f'[settings]\nbackfill_window = "off"\ndownload_timeout = 5.0\n{settings}\n'
            f'[[sources]]\nname = "local"\ntimezone = "Asia/Hong_Kong"\nlists = [{urls}]\n'
            'allowed_domains = ["127.0.0.1"]\narticle_pattern = "/news/"\n\n'
            "[sources.politeness]\ndownload_delay = 0.0\n", encoding="utf-8")
        return path


@contextmanager
def serving(routes: dict[str, Answer]) -> Iterator[LocalSite]:
    site = LocalSite(routes)
    with site.server:
        yield site
