"""Scrapy settings for newsmon: the one documented, ordered place for crawl defaults.

``newsmon crawl`` builds on these and overrides a few from the typed config
(user agent, delay, per-domain concurrency, timeouts, size cap). Run as plain
``scrapy crawl news -a source=NAME``, the config file and database come from the
``NEWSMON_CONFIG`` and ``NEWSMON_DB`` environment variables (this module is that
entry point's configuration owner).
"""

from __future__ import annotations

import os

from newsmon.config import DEFAULT_USER_AGENT, default_database_url

BOT_NAME = "newsmon"
SPIDER_MODULES = ["newsmon.crawler.spiders"]
NEWSPIDER_MODULE = "newsmon.crawler.spiders"

# --- newsmon's own settings -------------------------------------------------------
NEWSMON_CONFIG = os.environ.get("NEWSMON_CONFIG", "")
NEWSMON_DB = os.environ.get("NEWSMON_DB") or default_database_url()

# --- politeness ---------------------------------------------------------------------
USER_AGENT = DEFAULT_USER_AGENT
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# --- robustness ---------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a news page is never 10 MB; bigger is an error
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# crawler.middlewares.BackoffRetryMiddleware: wait before retrying. Retry-After wins
# (up to RETRY_AFTER_MAX seconds; longer means "not this run"), otherwise 1 s, 2 s, 4 s …
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 60.0
REDIRECT_MAX_TIMES = 5
HTTPERROR_ALLOW_ALL = False

# Only HTTP(S) can be fetched, even by a request that got past the gate: no
# file:///dev/zero, no anonymous FTP logins, no data: "pages".
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

# --- incremental crawling: conditional GETs, retries with backoff ---------------------
# crawler.gate: every request stays on the source's origins (http/https only); the
# RequestGate runs before robots.txt, the RedirectGate before Scrapy's redirects.
DOWNLOADER_MIDDLEWARES = {
    "newsmon.crawler.gate.RequestGate": 50,
    # crawler.robots: robots.txt that is unreachable (5xx) disallows, unparseable counts.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsmon.crawler.robots.RobotsTxtMiddleware": 100,
    "newsmon.crawler.gate.RedirectGate": 650,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newsmon.crawler.middlewares.BackoffRetryMiddleware": 550,
    "newsmon.crawler.middlewares.ConditionalGetMiddleware": 560,
}

# --- pipeline: extract -> normalise -> dedup -> store (one way) --------------------
# The store writes this many articles per transaction, or what arrived in this time.
NEWSMON_STORE_BATCH = 25
NEWSMON_STORE_BATCH_SECONDS = 2.0
# crawler.workers: extract / normalise / fingerprint in worker processes once a crawl
# process has handled NEWSMON_WORKERS_AFTER articles ("auto" = one per CPU; 0 = never).
NEWSMON_WORKERS = "auto"
NEWSMON_WORKERS_AFTER = 50
ITEM_PIPELINES = {
    "newsmon.crawler.pipelines.ExtractPipeline": 100,
    "newsmon.crawler.pipelines.NormalizePipeline": 200,
    "newsmon.crawler.pipelines.DedupPipeline": 300,
    "newsmon.crawler.pipelines.StorePipeline": 900,
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    # crawler.throttle: AutoThrottle that lets a 304 Not Modified lower the delay too.
    "scrapy.extensions.throttle.AutoThrottle": None,
    "newsmon.crawler.throttle.ConditionalAutoThrottle": 0,
    "newsmon.crawler.extensions.RunLedger": 500,
    # "newsmon.crawler.extensions.Progress" is added by `newsmon crawl` when stderr is a terminal.
}

# --- plumbing -----------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
LOG_FORMATTER = "newsmon.crawler.logformatter.NewsmonLogFormatter"
COOKIES_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
