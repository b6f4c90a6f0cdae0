"""The HTTP server for the sample sites: a stdlib ``ThreadingHTTPServer`` in a daemon
thread, started on port 0, with a day switch and a log of every request.

Everything for the current day is rendered up front into a dict of
:class:`~newsmon.samplesites.pages.Resource`; switching the day swaps the dict. The
server answers conditional GETs from the precomputed validators (ETag and
Last-Modified), gzips when asked, and implements the misbehaving endpoints of the
``broken`` site (statuses, delays, redirect loops, a streamed 20 MB page).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from newsmon.samplesites import broken, daythree, sites
from newsmon.samplesites.catalog import SampleArticle, all_articles, articles_for, check_day
from newsmon.samplesites.pages import RenderContext, Resource

# Request headers a test may want to see in the log.
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "User-Agent", "Accept-Encoding",
                  "Referer")
GIF_1X1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00"
           b"\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
ASSET_TYPES = {".css": "text/css", ".js": "application/javascript", ".gif": "image/gif",
               ".png": "image/gif", ".jpg": "image/gif", ".ico": "image/gif"}
# The broken site's fixed answers: an error page, or a redirect (status, target).
_BROKEN_ERRORS = {"/broken/gone.html": HTTPStatus.NOT_FOUND,
                  "/broken/error.html": HTTPStatus.INTERNAL_SERVER_ERROR}
_BROKEN_REDIRECTS = {"/broken/loop-a.html": (HTTPStatus.FOUND, "/broken/loop-b.html"),
                     "/broken/loop-b.html": (HTTPStatus.FOUND, "/broken/loop-a.html"),
                     "/broken/moved.html": (HTTPStatus.MOVED_PERMANENTLY, "/broken/ok.html")}


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the server saw it.

    ``status`` is None while no response has started (a slow page still sleeping);
    ``headers`` holds the request headers of :data:`LOGGED_HEADERS` that were sent.
    """

    seq: int
    method: str
    path: str  # path and query, as requested
    site: str  # the site prefix the path is under ("" for /robots.txt, /ads/ ...)
    status: int | None
    headers: Mapping[str, str]


@dataclass(slots=True)
class _Entry:
    seq: int
    method: str
    path: str
    site: str
    headers: dict[str, str]
    status: int | None = None


class RequestLog:
    """Every request the server received, in arrival order; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[_Entry] = []
        self._seq = 0

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return [LoggedRequest(e.seq, e.method, e.path, e.site, e.status, dict(e.headers))
                    for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _start(self, method: str, path: str, site: str, headers: dict[str, str]) -> _Entry:
        with self._lock:
            self._seq += 1
            entry = _Entry(self._seq, method, path, site, headers)
            self._entries.append(entry)
            return entry

    def _finish(self, entry: _Entry, status: int) -> None:
        with self._lock:
            if entry.status is None:
                entry.status = status


@dataclass
class _State:
    """What the request handlers share: the current resources and the switches."""

    log: RequestLog
    base_url: str = ""
    resources: dict[str, Resource] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    dishonest: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)  # paths answered 500
    redirects: dict[str, str] = field(default_factory=dict)  # day three: path -> home
    unavailable: frozenset[str] = frozenset()  # day three: paths answered 503
    busy_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_busy_number(self) -> int:
        with self.lock:
            self.busy_requests += 1
            return self.busy_requests

    def is_dishonest(self, site: str) -> bool:
        with self.lock:
            return site in self.dishonest

    def is_failing(self, path: str) -> bool:
        with self.lock:
            return path in self.failing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state


class SampleSites:
    """The sample news sites on a local port; a context manager.

    >>> with SampleSites(day=1) as sites:          # doctest: +SKIP
    ...     sites.url("/dzwww/xinwen/index.htm")
    ...     sites.set_day(2)
    """

    def __init__(self, day: int = 1, host: str = "127.0.0.1", port: int = 0) -> None:
        check_day(day)
        self._day = day
        self._host = host
        self._port = port
        self.requests = RequestLog()
        self._state = _State(self.requests)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> SampleSites:
        if self._server is not None:
            raise RuntimeError(f"sample sites already running at {self.base_url}")
        server = _Server((self._host, self._port), self._state)
        host, port = server.server_address[:2]
        self._state.base_url = f"http://{host!s}:{port}"
        self._state.stopping.clear()
        self._server = server
        self._render()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"samplesites:{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._state.stopping.set()  # wakes handlers sleeping in slow.html
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SampleSites:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- addresses --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; only known once started."""
        if not self._state.base_url or self._server is None:
            raise RuntimeError("the sample sites are not running: call start() or use "
                               "`with SampleSites() as sites:`")
        return self._state.base_url

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # --- state ------------------------------------------------------------------------
    @property
    def day(self) -> int:
        return self._day

    def set_day(self, day: int) -> None:
        """Switch every site to day one, two or three (edits and takedowns, see
        ``daythree.py``); takes effect for the next request."""
        check_day(day)
        self._day = day
        if self._server is not None:
            self._render()

    def set_dishonest(self, site: str, dishonest: bool = True) -> None:
        """Make ``site`` answer every conditional request with 304, changed or not."""
        if site not in sites.SITE_NAMES:
            raise ValueError(f"unknown sample site {site!r} (known: {', '.join(sites.SITE_NAMES)})")
        with self._state.lock:
            if dishonest:
                self._state.dishonest.add(site)
            else:
                self._state.dishonest.discard(site)

    def set_failing(self, path: str, failing: bool = True) -> None:
        """Make ``path`` (e.g. an article's) answer 500 Internal Server Error, or not."""
        with self._state.lock:
            if failing:
                self._state.failing.add(path)
            else:
                self._state.failing.discard(path)

    def site_names(self) -> list[str]:
        """The news sites (the ``broken`` site is not one of them)."""
        return [site.spec.name for site in sites.NEWS_SITES]

    def articles(self, site: str | None = None, day: int | None = None) -> list[SampleArticle]:
        """The ground truth: articles served on ``day`` (default: the current day),
        newest first per site; ``article.path`` is where each is served."""
        day = self._day if day is None else day
        names = [site] if site else self.site_names()
        return [a for name in names for a in articles_for(name, day)]

    def config_toml(self, include_broken: bool = False) -> str:
        """A newsmon config with one source per site at the current address.

        ``include_broken`` adds the ``broken`` source and a download timeout shorter
        than its slow page's delay.
        """
        return sites.config_toml(self._context(), include_broken=include_broken)

    def _context(self) -> RenderContext:
        return RenderContext(self.base_url, self._day)

    def _render(self) -> None:
        # One assignment: handlers see either the old day or the new one, never a mix.
        self._state.resources = sites.render_all(self._context())
        self._state.redirects, self._state.unavailable = _day_three_routes(self._day)


def _day_three_routes(day: int) -> tuple[dict[str, str], frozenset[str]]:
    """Day three's redirects to a site's home and its 503 pages (none on other days)."""
    if day != 3:
        return {}, frozenset()
    path_of = {a.key: a.path for a in all_articles()}
    redirects = {path: "/" + path.split("/")[1] + "/"
                 for path in daythree.paths_with("home", path_of)}
    return redirects, frozenset(daythree.paths_with("unavailable", path_of))


def _site_of(path: str) -> str:
    first = path.split("/", 2)[1] if path.count("/") >= 2 else ""
    return first if first in sites.SITE_NAMES else ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    server_version = "nginx/1.16.1"
    sys_version = ""

    _entry: _Entry | None = None

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self._entry is not None and isinstance(code, int):
            self.server.state.log._finish(self._entry, int(code))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log records what tests need."""

    # --- dispatch ---------------------------------------------------------------------
    def _handle(self, send_body: bool) -> None:
        state = self.server.state
        split = urlsplit(self.path)
        site = _site_of(split.path)
        headers = {name: value for name in LOGGED_HEADERS if (value := self.headers.get(name))}
        self._entry = state.log._start(self.command, self.path, site, headers)
        # A client that gives up (size cap, timeout) leaves nothing to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(state, split.path, split.query, site, send_body)

    def _route(self, state: _State, path: str, query: str, site: str, send_body: bool) -> None:
        if state.is_failing(path):
            self._send_error(HTTPStatus.INTERNAL_SERVER_ERROR, path, send_body)
            return
        if path in state.unavailable:
            self._send_error(HTTPStatus.SERVICE_UNAVAILABLE, path, send_body)
            return
        if path in state.redirects:
            self._send_redirect(HTTPStatus.FOUND, state.redirects[path], send_body)
            return
        if path in _BROKEN_ERRORS:
            self._send_error(_BROKEN_ERRORS[path], path, send_body)
            return
        if path in _BROKEN_REDIRECTS:
            self._send_redirect(*_BROKEN_REDIRECTS[path], send_body)
            return
        params = parse_qs(query)
        dynamic = _BROKEN_HANDLERS.get(path)
        if dynamic is not None:
            dynamic(self, state, params, send_body)
            return
        if path.startswith("/ads/"):
            self._ads(path, params, send_body)
            return
        if path.strip("/") in sites.SITE_NAMES and not path.endswith("/"):
            self._send_redirect(HTTPStatus.MOVED_PERMANENTLY, path + "/", send_body)
            return
        resource = (state.resources.get(f"{path}?{query}") if query else None) \
            or state.resources.get(path)
        if resource is not None:
            self._send_resource(state, resource, site, send_body)
            return
        suffix = path[path.rfind("."):] if "." in path.rsplit("/", 1)[-1] else ""
        if suffix in ASSET_TYPES and (site or path == "/favicon.ico"):
            self._send_asset(suffix, send_body)
            return
        self._send_error(HTTPStatus.NOT_FOUND, path, send_body)

    # --- responses --------------------------------------------------------------------
    def _send_resource(self, state: _State, resource: Resource, site: str,
                       send_body: bool) -> None:
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if (inm or ims) and state.is_dishonest(site):
            self._send_not_modified(inm or resource.etag, resource)
            return
        if _not_modified(resource, inm, ims):
            self._send_not_modified(resource.etag, resource)
            return
        body = resource.body
        gzip_ok = resource.gzipped is not None and "gzip" in self.headers.get("Accept-Encoding", "")
        if gzip_ok and resource.gzipped is not None:
            body = resource.gzipped
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", resource.etag)
        if resource.last_modified_header:
            self.send_header("Last-Modified", resource.last_modified_header)
        if resource.gzipped is not None:
            self.send_header("Vary", "Accept-Encoding")
        if gzip_ok:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_not_modified(self, etag: str, resource: Resource) -> None:
        self.send_response(HTTPStatus.NOT_MODIFIED)
        self.send_header("ETag", etag)
        if resource.last_modified_header:
            self.send_header("Last-Modified", resource.last_modified_header)
        self.end_headers()

    def _send_bytes(self, status: int, content_type: str, body: bytes, send_body: bool,
                    extra: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_error(self, status: HTTPStatus, path: str, send_body: bool,
                    extra: Mapping[str, str] | None = None) -> None:
        self._send_bytes(status, "text/html; charset=utf-8",
                         broken.error_page(status.value, status.phrase, path), send_body, extra)

    def _send_redirect(self, status: HTTPStatus, target: str, send_body: bool) -> None:
        location = self.server.state.base_url + target
        self._send_bytes(status, "text/html; charset=utf-8",
                         f'<a href="{location}">{location}</a>'.encode(), send_body,
                         {"Location": location})

    def _send_asset(self, suffix: str, send_body: bool) -> None:
        body = {".css": b"body{font-size:14px}\n", ".js": b"/* sample */\n"}.get(suffix, GIF_1X1)
        self._send_bytes(HTTPStatus.OK, ASSET_TYPES[suffix], body, send_body,
                         {"Cache-Control": "max-age=86400"})

    def _ads(self, path: str, params: dict[str, list[str]], send_body: bool) -> None:
        if path == "/ads/c":
            aid = params.get("aid", [""])[0]
            if not aid.isdigit():
                self._send_bytes(HTTPStatus.BAD_REQUEST, "text/plain; charset=utf-8",
                                 f"bad ad id {aid!r} in {self.path}".encode(), send_body)
                return
            self._send_redirect(HTTPStatus.FOUND, f"/ads/landing/{aid}.html", send_body)
        elif path.startswith("/ads/landing/"):
            self._send_bytes(HTTPStatus.OK, "text/html; charset=utf-8",
                             "<html><body><h1>广告</h1><p>招商加盟热线</p></body></html>".encode(),
                             send_body)
        elif path.startswith("/ads/img/"):
            self._send_bytes(HTTPStatus.OK, "image/gif", GIF_1X1, send_body)
        else:
            self._send_error(HTTPStatus.NOT_FOUND, path, send_body)

    # --- the broken site's misbehaviour --------------------------------------------------
    def _busy(self, state: _State, params: dict[str, list[str]], send_body: bool) -> None:
        if state.next_busy_number() % 2 == 1:
            self._send_error(HTTPStatus.SERVICE_UNAVAILABLE, "/broken/busy.html", send_body,
                             {"Retry-After": "1"})
        else:
            self._send_resource(state, state.resources["/broken/busy.html"], "broken", send_body)

    def _slow(self, state: _State, params: dict[str, list[str]], send_body: bool) -> None:
        delay = _number_param(params, "delay", broken.SLOW_DEFAULT_SECONDS, broken.SLOW_MAX_SECONDS)
        if delay is None:
            message = f"delay must be a number of seconds in {self.path}"
            self._send_bytes(HTTPStatus.BAD_REQUEST, "text/plain; charset=utf-8",
                             message.encode(), send_body)
            return
        if state.stopping.wait(delay):
            return  # shutting down: drop the connection unanswered
        self._send_bytes(HTTPStatus.OK, "text/html; charset=utf-8",
                         broken.error_page(200, f"slow page after {delay:g} s", self.path),
                         send_body)

    def _huge(self, state: _State, params: dict[str, list[str]], send_body: bool) -> None:
        megabytes = _number_param(params, "mb", broken.HUGE_DEFAULT_MB, broken.HUGE_MAX_MB)
        if megabytes is None:
            self._send_bytes(HTTPStatus.BAD_REQUEST, "text/plain; charset=utf-8",
                             f"mb must be a number in {self.path}".encode(), send_body)
            return
        total = int(megabytes * 1024 * 1024)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if params.get("nolength", ["0"])[0] != "1":
            self.send_header("Content-Length", str(total))
        self.end_headers()
        if not send_body:
            return
        for chunk in broken.huge_chunks(total):
            if state.stopping.is_set():
                return
            self.wfile.write(chunk)


# The broken site's pages whose answer depends on the request.
_BROKEN_HANDLERS = {
    "/broken/busy.html": _Handler._busy,
    "/broken/slow.html": _Handler._slow,
    "/broken/huge.html": _Handler._huge,
}


def _not_modified(resource: Resource, if_none_match: str | None,
                  if_modified_since: str | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since; ETags compare weakly."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or resource.etag.removeprefix("W/") in tags
    if if_modified_since and resource.last_modified is not None:
        since = _parse_http_date(if_modified_since)
        return since is not None and resource.last_modified.replace(microsecond=0) <= since
    return False


def _parse_http_date(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None  # an unparseable date is ignored, as RFC 9110 asks
    return parsed if parsed.tzinfo is not None else None


def _number_param(params: dict[str, list[str]], name: str, default: float,
                  maximum: float) -> float | None:
    raw = params.get(name)
    if not raw:
        return default
    try:
        value = float(raw[0])
    except ValueError:
        return None
    return min(max(value, 0.0), maximum)

