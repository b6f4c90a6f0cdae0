"""Naming why a request failed or a page was rejected, for the counters, the log line
and the URL ledger."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    DropItem,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectError,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from newsmon.crawler.gate import GateDropped
from newsmon.crawler.robots import RobotsUnreachable


def classify_failure(failure: Failure) -> tuple[str, str]:
    """``(kind, detail)`` for a failed request, e.g. ``("http_500", "HTTP 500")``."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", f"HTTP {status}"
    # Scrapy >= 2.13 wraps Twisted's download errors in its own classes; both are named.
    if isinstance(exc, TimeoutError | TCPTimedOutError | DownloadTimeoutError):
        return "timeout", "timed out"
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        return "dns", "host name not found"
    if isinstance(exc, ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection_refused", "connection refused"
    if isinstance(exc, CancelledError | DownloadCancelledError):
        # Scrapy cancels downloads that exceed DOWNLOAD_MAXSIZE.
        return "too_large", "response larger than the size cap (download cancelled)"
    if isinstance(exc, GateDropped):
        return f"gate_{exc.reason}", str(exc)
    if isinstance(exc, RobotsUnreachable):  # before "robots": retried next run
        return "robots_unreachable", str(exc)
    if isinstance(exc, IgnoreRequest):
        reason = str(exc) or "request dropped"
        if "robots.txt" in reason.lower():
            return "robots", "forbidden by robots.txt"
        if "redirect" in reason.lower():
            return "redirect_loop", reason
        return "ignored", reason
    if isinstance(exc, ResponseDataLossError):
        return "data_loss", "the response ended before its announced length"
    encoding = _unsupported_transfer_encoding(exc)
    if encoding is not None:
        return "transfer_encoding", (f"unsupported Transfer-Encoding {encoding!r} (only "
                                     "chunked is understood): response not read")
    if isinstance(exc, ResponseNeverReceived | ConnectionLost | ConnectError
                  | DownloadFailedError):
        return "connection", f"{type(exc).__name__}: {exc}"
    return type(exc).__name__.lower(), str(exc) or type(exc).__name__


def _unsupported_transfer_encoding(exc: BaseException | None) -> str | None:
    """The Transfer-Encoding Twisted's HTTP client could not decode, if that is why the
    download failed: its parser looks the header up in a table of one (``chunked``), so
    ``Transfer-Encoding: gzip`` (a classic gzip-bomb carrier) fails as ``KeyError``."""
    failed = exc.__cause__ if isinstance(exc, DownloadFailedError) else exc
    for reason in getattr(failed, "reasons", None) or ():
        value = getattr(reason, "value", None)
        if isinstance(value, KeyError) and value.args and isinstance(value.args[0], bytes):
            return value.args[0].decode("latin-1")
    return None


# Errors that mean the database itself is gone (connection lost, schema dropped, file
# unusable), as opposed to one article it refused (IntegrityError, DataError).
DATABASE_UNAVAILABLE = "database_unavailable"  # the finish reason of such a crawl
# The crawl's stat saying why: ``newsmon crawl`` prints the first as its one error line.
DATABASE_LOST_STAT = "newsmon/database_unavailable"


class Rejected(DropItem):
    """A fetched page the pipeline will not store, with the reason's ``kind``.

    ``final`` rejects (not an article, not HTML) are remembered in the URL ledger so
    the page is not fetched again; the others (an empty body, a failed write) are
    tried again next run. ``urls`` are the URLs that led to the page.
    """

    def __init__(self, kind: str, message: str, *, urls: tuple[str, ...] = (),
                 final: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.urls = urls
        self.final = final


def http_status_of(failure: Failure) -> int | None:
    """The HTTP status of a failed request, when the server answered."""
    exc = failure.value
    return int(exc.response.status) if isinstance(exc, HttpError) else None
