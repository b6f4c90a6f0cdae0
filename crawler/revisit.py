"""Re-visits at the edge: fetch watched articles again and say what came back.

One Scrapy crawler per source, with the source's politeness settings and the same
downloader middlewares as a crawl — the request gate (``crawler/gate.py``), robots.txt,
the size cap, per-site delay and concurrency. Each request carries the validators of
the article's last full answer (``If-None-Match`` / ``If-Modified-Since``); redirects
are followed through the gate; a failed answer is not retried (the next scheduled
re-visit is the retry). What came back is turned into a
:class:`newsmon.versions.FetchEvidence` — status, where redirects led, the page's
headline and first text, and what the extractor read — and handed to ``on_result``,
which decides and stores (``newsmon/app/revisit.py``). Bytes identical to the last full
answer are not extracted again.

The reactor cannot be restarted: one run per process (``newsmon revisit``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import scrapy
from lxml import html as lxml_html
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from newsmon.config import Config, SourceConfig
from newsmon.crawler.errors import classify_failure, http_status_of
from newsmon.crawler.extract import extract_article
from newsmon.crawler.extract.decode import decode_html
from newsmon.crawler.gate import Origins
from newsmon.crawler.runner import _SignalNotingProcess, scrapy_settings, source_settings
from newsmon.sanitise import ETAG_MAX, LAST_MODIFIED_MAX, header_value
from newsmon.storage.watch import WatchTarget
from newsmon.versions import FetchEvidence, Snapshot

log = logging.getLogger(__name__)

# Every answer reaches the callback (a 404 is evidence, not an error), except the
# redirects, which Scrapy follows through the gate.
HANDLED_STATUSES = [304, *range(400, 600)]
TEXT_HEAD = 600  # characters of visible text looked at for soft-404 wording

ResultHandler = Callable[[WatchTarget, FetchEvidence], None]


class RevisitInterrupted(Exception):
    """A signal stopped the re-visits; what was recorded stays recorded."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


class RevisitSpider(scrapy.Spider):
    name = "revisit"

    def __init__(self, source_config: SourceConfig, targets: Sequence[WatchTarget],
                 on_result: ResultHandler, **kwargs: Any) -> None:
        super().__init__(name=f"revisit:{source_config.name}", **kwargs)
        self.source_config = source_config
        self.targets = list(targets)
        self.on_result = on_result
        # crawler.gate.RequestGate reads this: the origins every request must stay on.
        self.gate_origins = Origins.of(source_config.start_urls, source_config.allowed_domains)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for target in self.targets:
            headers = {}
            if target.etag:
                headers["If-None-Match"] = target.etag
            if target.last_modified:
                headers["If-Modified-Since"] = target.last_modified
            yield scrapy.Request(target.url, callback=self.parse_page, errback=self.on_error,
                                 headers=headers, dont_filter=True,
                                 meta={"target": target, "dont_retry": True,
                                       "handle_httpstatus_list": HANDLED_STATUSES})

    def parse_page(self, response: Response) -> None:
        target: WatchTarget = response.meta["target"]
        self._deliver(target, evidence_from(response, target, self.source_config))

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        target = request.meta.get("target") if request is not None else None
        if not isinstance(target, WatchTarget):
            return
        kind, detail = classify_failure(failure)
        log.warning("%s: revisit %s: %s", self.source_config.name, target.url, detail)
        self._deliver(target, FetchEvidence(target.url, http_status_of(failure),
                                            error=f"{kind}: {detail}"))

    def _deliver(self, target: WatchTarget, evidence: FetchEvidence) -> None:
        try:
            self.on_result(target, evidence)
        except Exception:
            log.exception("%s: recording the re-visit of %s failed", self.source_config.name,
                          target.url)
            raise


def evidence_from(response: Response, target: WatchTarget, source: SourceConfig
                  ) -> FetchEvidence:
    """What one answer says, read at the edge (decode, headline, extraction)."""
    header = response.headers.get
    # Kept to be sent back: an over-long or garbled validator is dropped, not stored.
    etag = header_value(_header_text(header("ETag")), ETAG_MAX)
    modified = header_value(_header_text(header("Last-Modified")), LAST_MODIFIED_MAX)
    base = FetchEvidence(target.url, response.status, response.url, etag=etag,
                         last_modified=modified)
    if response.status != 200:
        return base
    page_hash = hashlib.sha256(response.body).hexdigest()
    if page_hash == target.page_hash and response.url == target.url:
        return replace(base, page_hash=page_hash, article=target.stored)
    content_type = _header_text(header("Content-Type"))
    headline, text_head = _headline_and_text(response.body, content_type)
    snapshot, reason = _extract(response, content_type, source)
    return replace(base, page_hash=page_hash, headline=headline, text_head=text_head,
                    article=snapshot, not_article_reason=reason)


def _header_text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None


def _headline_and_text(body: bytes, content_type: str | None) -> tuple[str, str]:
    try:
        doc = lxml_html.fromstring(decode_html(body, content_type).text or "<html/>")
    except (ValueError, lxml_html.etree.ParserError):
        return "", ""
    titles = [" ".join(node.text_content().split()) for node in doc.xpath("//title|//h1")[:3]]
    for junk in doc.xpath("//script|//style"):
        junk.drop_tree()
    text = " ".join(doc.text_content().split())[:TEXT_HEAD]
    return " | ".join(t for t in titles if t), text


def _extract(response: Response, content_type: str | None, source: SourceConfig
             ) -> tuple[Snapshot | None, str | None]:
    try:
        article = extract_article(response.body, url=response.url, content_type=content_type,
                                  fetched_at=datetime.now(UTC), timezone=source.timezone,
                                  overrides=source.extract)
    except Exception as exc:  # ExtractionFailed: the extractor's bug, not a takedown
        return None, f"extraction failed: {exc}"
    if not article.is_article or not article.title.strip() or not article.body.strip():
        return None, article.not_article_reason or "no title or body"
    return Snapshot(article.title, article.body, article.source, article.author,
                    article.editor, article.published_at), None


def run_revisits(config: Config, database_url: str,
                 targets: Sequence[tuple[SourceConfig, Sequence[WatchTarget]]],
                 on_result: ResultHandler, *, log_level: str = "WARNING") -> None:
    """Re-visit ``targets`` (grouped by source) in this process, calling ``on_result``
    for each answer as it comes. Raises :class:`RevisitInterrupted` after a signal."""
    base = scrapy_settings(config, database_url, log_level=log_level)
    # No crawl pipeline or run ledger: the re-visit records its own results.
    base.set("ITEM_PIPELINES", {}, priority="cmdline")
    # The crawl's extensions but its run ledger (the throttle among them: see
    # crawler/throttle.py, why a re-visit of unchanged pages needs it).
    extensions = {name: order for name, order in base.getdict("EXTENSIONS").items()
                  if not name.endswith(".RunLedger")}
    base.set("EXTENSIONS", extensions, priority="cmdline")
    process = _SignalNotingProcess(base)
    for index, (source, batch) in enumerate(targets):
        crawler = Crawler(RevisitSpider, source_settings(base, source), init_reactor=index == 0)
        process.crawl(crawler, source_config=source, targets=batch, on_result=on_result)
    if targets:
        process.start()
    if process.stop_signal is not None:
        raise RevisitInterrupted(process.stop_signal)
