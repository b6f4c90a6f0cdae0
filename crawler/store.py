"""The one owner of a crawl's database: its engine, its URL ledger and its thread.

Each crawler (one source's crawl) has one :class:`CrawlStore`, built by the first
``from_crawler`` that asks for it (the spider's, normally) and kept on the crawler as
``crawler.newsmon_store``. The spider, the middlewares, the pipelines and the run
ledger reach it through the crawler (:meth:`CrawlStore.of`), never through the spider
or a module global. It holds:

* the crawl's single :class:`~storage.engine.Database` (one engine, one pool);
* the source's :class:`~crawler.ledger.CrawlLedger`;
* the rule for a lost database (:meth:`CrawlStore.stop_if_lost`): the crawl stops,
  since every further page would be fetched for nothing;
* one worker thread on which every database call of the crawl runs
  (:meth:`CrawlStore.call`). The reactor thread never waits on the database, and
  since there is only one thread, calls run in the order they were made: a write a
  callback asked for is done before a later read sees the table, and the engine is
  disposed only after the last write queued before it.

It closes at ``spider_closed``: its handler is connected when the spider opens, after
every other component's, so the URL ledger's validators and the run row (queued by
handlers called before it) are written before the engine is disposed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from newsmon.crawler.errors import DATABASE_LOST_STAT, DATABASE_UNAVAILABLE
from newsmon.crawler.ledger import CrawlLedger
from newsmon.storage.engine import Database, database_lost

T = TypeVar("T")

ATTRIBUTE = "newsmon_store"  # where the crawler keeps its store


class StoreClosed(RuntimeError):
    """A database call asked for after the crawl's store was closed (a bug)."""


class CrawlStore:
    """One crawl's database engine, URL ledger and database thread (see the module)."""

    def __init__(self, crawler: Crawler, database: Database) -> None:
        self.crawler = crawler
        self.database = database
        self.ledger: CrawlLedger | None = None
        self._pool = ThreadPool(minthreads=1, maxthreads=1,
                                name=f"newsmon-database-{id(self):x}")
        self._shutdown_trigger: Any = None
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStore:
        """The crawler's store, built on first use."""
        store = getattr(crawler, ATTRIBUTE, None)
        if isinstance(store, CrawlStore):
            return store
        store = cls(crawler, Database(crawler.settings.get("NEWSMON_DB")))
        setattr(crawler, ATTRIBUTE, store)
        crawler.signals.connect(store._close_last, signal=signals.spider_opened)
        crawler.signals.connect(store.spider_error, signal=signals.spider_error)
        return store

    of = from_crawler

    def open_ledger(self, source: str, host_aliases: dict[str, str]) -> CrawlLedger:
        """The crawl's URL ledger for ``source`` (one per crawl)."""
        if self.ledger is None:
            self.ledger = CrawlLedger(self.database, source, host_aliases)
        return self.ledger

    # --- the database thread ---------------------------------------------------------
    def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """Run ``func(*args, **kwargs)`` on the database thread, after every call
        queued before it; the Deferred fires on the reactor thread."""
        if self._closed:
            raise StoreClosed(f"{self.database.display_url}: the crawl's database is "
                              f"closed; cannot run {getattr(func, '__qualname__', func)}")
        reactor = _reactor()
        if not self._pool.started:
            self._pool.start()
            # A crawl that never reaches spider_closed must not keep the process alive.
            self._shutdown_trigger = reactor.addSystemEventTrigger(
                "during", "shutdown", self._on_shutdown)
        return deferToThreadPool(reactor, self._pool, func, *args, **kwargs)

    async def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Await ``func(*args, **kwargs)`` run on the database thread (see :meth:`run`)."""
        result: T = await maybe_deferred_to_future(self.run(func, *args, **kwargs))
        return result

    # --- a lost database ------------------------------------------------------------
    @staticmethod
    def lost(exc: BaseException) -> bool:
        """Whether ``exc`` says the database is gone (not just one row refused)."""
        return database_lost(exc) is not None

    def stop_if_lost(self, exc: BaseException) -> bool:
        """Stop the crawl when ``exc`` says the database is gone: every further page
        would be fetched for nothing and fail with a multi-line error. True if so."""
        reason = database_lost(exc)
        if reason is None:
            return False
        stats = self.crawler.stats
        if stats is not None and stats.get_value(DATABASE_LOST_STAT) is None:
            stats.set_value(DATABASE_LOST_STAT, reason)
        engine = self.crawler.engine
        if engine is not None and engine.running:
            deferred_from_coro(engine.close_spider_async(reason=DATABASE_UNAVAILABLE))
        return True

    def spider_error(self, failure: Any, response: Any = None, spider: Any = None) -> None:
        """A callback failed on the database (the URL ledger): stop the crawl."""
        self.stop_if_lost(failure.value)

    # --- closing ---------------------------------------------------------------------
    def _close_last(self, spider: Any = None) -> None:
        # Connected now, after every component's spider_closed handler, so the close is
        # queued on the database thread after their last writes.
        self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    async def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        """Dispose of the engine once every queued call has run; stop the thread."""
        if self._closed:
            return
        disposed = self.run(self.database.dispose)
        self._closed = True
        try:
            await maybe_deferred_to_future(disposed)
        finally:
            if self._shutdown_trigger is not None:
                _reactor().removeSystemEventTrigger(self._shutdown_trigger)
                self._shutdown_trigger = None
            self._stop_thread()

    def _on_shutdown(self) -> None:
        self._shutdown_trigger = None
        self._closed = True
        self._stop_thread()

    def _stop_thread(self) -> None:
        if self._pool.started and not self._pool.joined:
            self._pool.stop()  # the queue is empty: joins an idle thread


def _reactor() -> Any:
    """The running reactor (imported late: the crawler installs the one it is set to)."""
    from twisted.internet import reactor

    return reactor
