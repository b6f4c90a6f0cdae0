"""Running crawls: Scrapy settings from the typed config, one crawler per source.

``run_crawl`` starts the Twisted reactor, which cannot be restarted in the same
process: callers that crawl more than once (the demo, the scheduler) run each crawl
in a child process via ``newsmon crawl``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import SETTINGS_PRIORITIES, Settings

import newsmon.crawler.settings as default_settings
from newsmon.config import Config, SourceConfig
from newsmon.crawler.extensions import BOARD_SETTING, ProgressBoard, crawl_stats_from
from newsmon.crawler.spiders.news import NewsSpider
from newsmon.crawler.workers import POOL_SETTING, START_AFTER, PurePool, worker_count
from newsmon.values import CrawlStats


def scrapy_settings(config: Config, database_url: str, *, progress: bool = False,
                    log_level: str = "WARNING") -> Settings:
    """Project defaults (``crawler/settings.py``) overridden by the app config."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    app = config.settings
    settings.setdict({
        "NEWSMON_DB": database_url,
        "NEWSMON_CONFIG": str(config.path or ""),
        "USER_AGENT": app.user_agent,
        "DOWNLOAD_DELAY": app.download_delay,
        "AUTOTHROTTLE_START_DELAY": app.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": app.concurrency_per_domain,
        "DOWNLOAD_TIMEOUT": app.download_timeout,
        "DOWNLOAD_MAXSIZE": app.max_response_bytes,
        "DOWNLOAD_WARNSIZE": min(app.max_response_bytes, 4 * 1024 * 1024),
        "ROBOTSTXT_OBEY": app.obey_robots,
        "LOG_LEVEL": log_level,
        "LOG_INSTALL_ROOT_HANDLER": True,
    }, priority="cmdline")
    if progress:
        extensions = dict(settings.getdict("EXTENSIONS"))
        extensions["newsmon.crawler.extensions.Progress"] = 600
        settings.set("EXTENSIONS", extensions, priority="cmdline")
    return settings


SOURCE_PRIORITY = SETTINGS_PRIORITIES["cmdline"] + 10  # a source's politeness overrides


def source_settings(base: Settings, source: SourceConfig) -> Settings:
    """A copy of ``base`` with the source's politeness overrides applied."""
    settings = base.copy()
    polite = source.politeness
    overrides: dict[str, object] = {}
    if polite.download_delay is not None:
        overrides["DOWNLOAD_DELAY"] = polite.download_delay
        overrides["AUTOTHROTTLE_START_DELAY"] = polite.download_delay
    if polite.concurrency is not None:
        overrides["CONCURRENT_REQUESTS_PER_DOMAIN"] = polite.concurrency
    if polite.obey_robots is not None:
        overrides["ROBOTSTXT_OBEY"] = polite.obey_robots
    # Above "cmdline", the priority of the app-wide values in ``base``: CrawlerProcess
    # merges its own settings (``base``) into each Crawler it is given, and a value of
    # equal priority wins there, which silently put the [settings] delay, concurrency
    # and robots rule back over the source's own.
    settings.setdict(overrides, priority=SOURCE_PRIORITY)
    return settings


class CrawlInterrupted(Exception):
    """The crawl was stopped by a signal (Ctrl-C, SIGTERM) before it finished; every
    source closed its run row as ``interrupted`` and ``results`` hold what was done."""

    def __init__(self, signum: int, results: list[CrawlStats]) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum
        self.results = results


class _SignalNotingProcess(CrawlerProcess):
    """A CrawlerProcess that remembers which signal stopped it, so ``newsmon crawl`` can
    exit 130 after Ctrl-C (Scrapy handles the signal itself and returns normally)."""

    stop_signal: int | None = None

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        self.stop_signal = signum
        super()._signal_shutdown(signum, frame)


# Newsmon's own loggers: shown at DEBUG with -v, while Scrapy's wait for -vv.
NEWSMON_LOGGERS = ("newsmon", NewsSpider.name)

# These loggers report a failed request a second time, with a traceback; the spider's
# errback already logs one line naming the URL and counts the error.
_DUPLICATE_ERROR_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.core.scraper",
)


def _quiet_duplicate_error_logs(verbosity: int) -> None:
    if verbosity < 2:
        for name in _DUPLICATE_ERROR_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _log_level(verbosity: int) -> str:
    """Scrapy's log handler level: its own lines (start-up report, every request) only
    from -vv on; newsmon's debug lines at -v get a handler of their own."""
    return "DEBUG" if verbosity >= 2 else "WARNING"


def _newsmon_debug_handler(settings: Settings, verbosity: int) -> logging.Handler | None:
    """With -v exactly: newsmon's loggers at DEBUG on their own stderr handler (in
    Scrapy's log format), while Scrapy's root handler stays at WARNING — its start-up
    report is ~100 lines for a 3-page crawl."""
    if verbosity != 1:
        return None
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"),
                                           settings.get("LOG_DATEFORMAT")))
    for name in NEWSMON_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        logger.propagate = False  # the root handler would print the warnings again
    return handler


def _remove_handler(handler: logging.Handler | None) -> None:
    if handler is not None:
        for name in NEWSMON_LOGGERS:
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).propagate = True


def run_crawl(config: Config, database_url: str, sources: Sequence[SourceConfig], *,
              progress: bool = False, verbosity: int = 0) -> list[CrawlStats]:
    """Crawl ``sources`` concurrently in this process; one :class:`CrawlStats` each.

    ``verbosity``: 0 warnings, 1 newsmon's debug lines, 2 Scrapy's too. Raises
    :class:`CrawlInterrupted` (with the results) when a signal stopped the crawl.
    """
    base = scrapy_settings(config, database_url, progress=progress,
                           log_level=_log_level(verbosity))
    process = _SignalNotingProcess(base)
    debug_handler = _newsmon_debug_handler(base, verbosity)
    _quiet_duplicate_error_logs(verbosity)
    # What the crawlers of this process share, owned here: the worker pool and the
    # progress line. Each crawler gets them in its own settings (set after Crawler
    # copied them, since a copy would be deep).
    pool = PurePool(worker_count(base.get("NEWSMON_WORKERS", "auto")),
                    base.getint("NEWSMON_WORKERS_AFTER", START_AFTER))
    board = ProgressBoard() if progress else None
    crawlers: list[tuple[SourceConfig, Crawler]] = []
    for index, source in enumerate(sources):
        # The first crawler installs the reactor named in the settings; the rest reuse it.
        crawler = Crawler(NewsSpider, source_settings(base, source), init_reactor=index == 0)
        crawler.settings.setdict({POOL_SETTING: pool, BOARD_SETTING: board}, priority="cmdline")
        process.crawl(crawler, source_config=source)
        crawlers.append((source, crawler))
    try:
        process.start()
    finally:
        _remove_handler(debug_handler)
        pool.close()
        if board is not None:
            board.finish()
    results = []
    for source, crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        reason = str(stats.get("finish_reason", "not started"))
        results.append(crawl_stats_from(source.name, stats, reason))
    if process.stop_signal is not None:
        raise CrawlInterrupted(process.stop_signal, results)
    return results
