"""The local mirror the crawl benchmarks fetch (``crawl.py``, ``revisit.py``): article
pages built from the real corpus article pages in ``tests/data/corpus``, behind
paginated list pages, served from a directory.

Copy 0 of a corpus page is served as recorded; copy *k* maps every common Han
character through a permutation of its own, so the text keeps the statistics of real
news (lengths, punctuation, markup) but every copy is a different story for dedup, as
most articles of a real crawl are. Pages are served as UTF-8, without their
``rel=canonical`` (copies must not claim one address).

    python bench/mirror.py DIRECTORY [--validators]

serves ``DIRECTORY`` on 127.0.0.1:0, prints the base URL, then runs until killed;
:func:`mirror_server` does that from a child process for the length of a ``with`` block.
The benchmarks also share the config that crawls the mirror (:func:`mirror_config`),
their child processes (:func:`run_child`) and CPU clock (:func:`cpu_seconds`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import random
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsmon.config import Config

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus"
_META_CHARSET = re.compile(rb"<meta[^>]+charset[^>]*>", re.IGNORECASE)
# Copies of a page must not claim one canonical URL (a relative rel=canonical would).
_CANONICAL = re.compile(rb"<link[^>]+rel=[\"']?canonical[^>]*>|<meta[^>]+og:url[^>]*>",
                        re.IGNORECASE)
MIRROR_LINKS = r"/(a|list)/\d+\.html$"  # the pages the mirror serves
# The one Last-Modified of every page when the mirror sends validators.
MODIFIED = datetime(2024, 5, 1, tzinfo=UTC)


def mirror_config(base_url: str, pages: int, per_list: int, *, settings: str = "",
                  source: str = "") -> Config:
    """The config that crawls the mirror as one source, without download delay;
    ``settings`` and ``source`` are TOML lines added to those tables."""
    from newsmon.config import parse_config

    lists = -(-pages // per_list)
    text = f"""[settings]
timezone = "Asia/Shanghai"
download_delay = 0.0
concurrency_per_domain = 8
{settings}
[[sources]]
name = "mirror"
lists = ["{base_url}/list/1.html"]
allowed_domains = ["127.0.0.1"]
article_pattern = '/a/\\d+\\.html$'
max_list_pages = {lists + 1}
{source}"""
    return parse_config(text, Path("bench-mirror.toml"))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_child(script: str, *args: str) -> dict[str, Any]:
    """Run the bench ``script`` with ``args`` in a child process; return the JSON object
    its last line of output prints."""
    result = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                            check=False, timeout=3600)
    if result.returncode != 0:
        raise SystemExit(f"bench child {args[0]} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@dataclass(frozen=True, slots=True)
class MirrorPage:
    path: str
    title: str


def _corpus_articles() -> list[tuple[str, bytes]]:
    cases = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
    pages = []
    for case in cases:
        if case["page_type"] != "article":
            continue
        raw = gzip.decompress((CORPUS / "pages" / f"{case['id']}.gz").read_bytes())
        pages.append((case["url"], raw))
    return pages


def _permutation(copy: int, common: list[str]) -> dict[int, str]:
    shuffled = list(common)
    random.Random(copy).shuffle(shuffled)
    return {ord(a): b for a, b in zip(common, shuffled, strict=True)}


def build_mirror(directory: Path, pages: int, per_list: int) -> list[MirrorPage]:
    """Write the article and list pages into ``directory``; return the articles."""
    from newsmon.crawler.extract import decode_html, extract_article
    from newsmon.crawler.extract.decode import _common_cjk

    common = sorted(_common_cjk())
    originals = []
    for url, raw in _corpus_articles():
        decoded = decode_html(raw)
        title = extract_article(raw, url=url, fetched_at=datetime.now(UTC),
                                timezone="Asia/Shanghai").title or "新闻"
        text = _CANONICAL.sub(b"", _META_CHARSET.sub(b"", decoded.text.encode("utf-8"))
                              ).decode("utf-8")
        originals.append((text, title))
    (directory / "a").mkdir(parents=True, exist_ok=True)
    (directory / "list").mkdir(parents=True, exist_ok=True)
    articles: list[MirrorPage] = []
    tables: dict[int, dict[int, str]] = {}
    for number in range(pages):
        copy, index = divmod(number, len(originals))
        text, title = originals[index]
        if copy:
            table = tables.setdefault(copy, _permutation(copy, common))
            text, title = text.translate(table), title.translate(table)
        path = f"/a/{number}.html"
        (directory / "a" / f"{number}.html").write_text(text, encoding="utf-8")
        articles.append(MirrorPage(path, " ".join(title.split())[:60]))
    chunks = [articles[i:i + per_list] for i in range(0, len(articles), per_list)]
    for number, chunk in enumerate(chunks, start=1):
        items = "\n".join(f'<li><a href="{p.path}">{html.escape(p.title)}</a></li>'
                          for p in chunk)
        following = (f'<a href="/list/{number + 1}.html">下一页</a>'
                     if number < len(chunks) else "")
        (directory / "list" / f"{number}.html").write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>滚动新闻 第{number}页'
            f'</title></head><body><h1>滚动新闻</h1><ul>\n{items}\n</ul>'
            f'<p class="pager">{following}</p></body></html>', encoding="utf-8")
    return articles


class _MirrorHandler(BaseHTTPRequestHandler):
    """The mirror's ``.html`` files; with ``validators``, as most news sites answer: an
    ETag from the bytes, one Last-Modified, and ``304 Not Modified`` to a matching
    ``If-None-Match``."""

    protocol_version = "HTTP/1.1"
    root = Path(".")
    validators = False

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        target = (self.root / path.lstrip("/")).resolve()
        if not path.endswith(".html") or self.root not in target.parents or not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found", {"Content-Type": "text/plain"})
            return
        body = target.read_bytes()
        headers = _validators(body) if self.validators else {}
        if headers and self.headers.get("If-None-Match") == headers["ETag"]:
            self._send(HTTPStatus.NOT_MODIFIED, b"", headers)
            return
        self._send(HTTPStatus.OK, body, {"Content-Type": "text/html; charset=utf-8", **headers})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def _validators(body: bytes) -> dict[str, str]:
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    return {"ETag": etag, "Last-Modified": format_datetime(MODIFIED, usegmt=True)}


def serve(directory: Path, *, validators: bool = False) -> None:
    """Serve the mirror on 127.0.0.1:0; print the base URL, then run until killed."""
    _MirrorHandler.root = directory.resolve()
    _MirrorHandler.validators = validators
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MirrorHandler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


@contextmanager
def mirror_server(directory: Path, *, validators: bool = False) -> Iterator[str]:
    """Serve ``directory`` from a child process while the block runs; yield its base URL."""
    server = subprocess.Popen(
        [sys.executable, __file__, str(directory), *(["--validators"] if validators else [])],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--validators", action="store_true",
                        help="send ETag and Last-Modified; answer 304 to If-None-Match")
    args = parser.parse_args()
    serve(args.directory, validators=args.validators)
