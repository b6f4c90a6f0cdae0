"""robots.txt that cannot be read: one rule, counted and logged in one line.

Scrapy's middleware treats every robots.txt it cannot use as "allow all", silently:
a 503 page, a network error, binary garbage. Newsmon follows RFC 9309 §2.3.1:

* **4xx** ("unavailable"): there are no rules; everything may be fetched
  (``newsmon/robots/unavailable``);
* **5xx, 429 or a network error** ("unreachable"): the crawler must assume complete
  disallow. Nothing on that host is fetched this run; each refused request is the
  error ``robots_unreachable`` (retried next run, unlike a page robots.txt forbids);
* **200 that is not UTF-8 text** (NUL bytes, undecodable): no rules can be read, so
  everything may be fetched, but it is counted as the error ``robots_unparseable``
  and logged once.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

log = logging.getLogger(__name__)


class RobotsUnreachable(IgnoreRequest):
    """Not fetched: the host's robots.txt was unreachable this run (RFC 9309)."""


class _Unreachable:
    """The "parser" of an unreachable robots.txt: it allows nothing."""

    def __init__(self, why: str) -> None:
        self.why = why

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


def readable(body: bytes) -> bool:
    """Whether a robots.txt body is text rules could be read from."""
    if b"\0" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware with the rule of the module docstring."""

    def _source(self) -> str:
        config = getattr(self.crawler.spider, "source_config", None)
        return str(getattr(config, "name", "?"))

    def _settle(self, netloc: str, parser: Any) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(waiting, Deferred):
            waiting.callback(parser)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._unreachable(netloc, response.url, f"HTTP {status}")
            return
        if status >= 400:
            self._stats.inc_value("newsmon/robots/unavailable")
            self._settle(netloc, None)
            return
        if not readable(response.body):
            self._stats.inc_value("newsmon/errors/robots_unparseable")
            log.warning("%s: robots_unparseable %s: not UTF-8 text; no rules read, "
                        "everything may be fetched", self._source(), response.url)
            self._settle(netloc, None)
            return
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):
            super()._robots_error(exc, netloc)
            return
        # The same words as a failed page ("connection refused", "timed out" ...).
        from newsmon.crawler.errors import classify_failure  # errors imports this module's names

        _kind, detail = classify_failure(Failure(exc))  # type: ignore[no-untyped-call]
        self._unreachable(netloc, f"//{netloc}/robots.txt", detail)

    def _unreachable(self, netloc: str, url: str, why: str) -> None:
        self._stats.inc_value("newsmon/robots/unreachable")
        log.warning("%s: robots.txt unreachable %s: %s; nothing on %s is fetched this run",
                    self._source(), url, why, netloc)
        self._settle(netloc, _Unreachable(why))

    def process_request_2(self, rp: Any, request: Request) -> None:
        if isinstance(rp, _Unreachable):
            raise RobotsUnreachable(f"robots.txt unreachable ({rp.why}): not fetched this run")
        super().process_request_2(rp, request)
