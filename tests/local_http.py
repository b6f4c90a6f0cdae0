"""A real HTTP server on 127.0.0.1, on a port the OS picks (so parallel test workers
never collide), whose every answer the test writes.

``LocalServer(on_get)`` calls ``on_get(handler)`` for each GET on a thread of its own
(``on_post`` likewise for POST); use it as a context manager, which starts and stops it.
``send`` and ``page_or_404`` build the common answers; ``refused_port`` is a port
nothing answers on. Request logging is off so test
output stays readable.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[BaseHTTPRequestHandler], None]


def send(status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None) -> Answer:
    """An answer: ``status`` with ``body`` (and its Content-Length) and ``headers``."""
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
    return answer


def page_or_404(handler: BaseHTTPRequestHandler, body: bytes | None,
                content_type: str = "text/html; charset=utf-8") -> None:
    """Answer 200 with ``body``, or 404 when there is no such page (``None``)."""
    if body is None:
        send(404, b"not found")(handler)
    else:
        send(200, body, content_type)(handler)


def _not_allowed(handler: BaseHTTPRequestHandler) -> None:
    handler.send_error(405)


class LocalServer:
    """The server; ``base`` is ``http://127.0.0.1:PORT`` (bound as soon as it is made).
    ``http11`` keeps connections alive between requests, as most real sites do."""

    def __init__(self, on_get: Answer = _not_allowed, *, on_post: Answer = _not_allowed,
                 http11: bool = False) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if http11 else "HTTP/1.0"

            def do_GET(self) -> None:
                on_get(self)

            def do_POST(self) -> None:
                on_post(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> LocalServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections while the block runs: bound, so no
    other test or parallel worker can take it meanwhile, but never listening."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])
