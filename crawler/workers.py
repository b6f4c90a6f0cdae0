"""Worker processes for the CPU-heavy pure stages: extract, normalise, fingerprint.

Scrapy runs everything in one thread, and decoding and extracting a 100 KB news page
takes tens of milliseconds of CPU — far more than downloading it. Once a crawl
process has handled :data:`START_AFTER` articles, the pipelines hand those pure
functions to a pool of worker processes (one per CPU by default, ``NEWSMON_WORKERS``)
and await the result, so the reactor keeps downloading while pages are extracted on
the other cores. Small crawls (a few dozen articles) never start the pool: its start-up
would cost more than it saves; nor does a machine whose CPUs are already busy
(:func:`spare_cpus`), where workers would only compete with the crawl process.

The functions run are the same pure functions the in-process path calls, so results
do not depend on where they ran. A worker notices when its crawl process has died (a
``kill -9``, a time limit) and exits; a pool that breaks (a worker killed by a crash in
a C library) is abandoned and the crawl goes on in-process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Articles handled in-process before the pool starts.
START_AFTER = 50
PARENT_CHECK_SECONDS = 1.0
SPARE_CPU = 0.75
# The crawl process's pool, shared by its crawlers (one per source): ``run_crawl`` owns
# it and hands it to each crawler in this setting. Without it (``scrapy crawl``) the
# pipelines run the pure stages in the crawl process.
POOL_SETTING = "NEWSMON_WORKER_POOL"


def worker_count(setting: str | int | None) -> int:
    """``NEWSMON_WORKERS``: ``"auto"`` (one per CPU, none on a single CPU), or a number
    (0 = no worker processes)."""
    if setting is None or str(setting).strip().lower() == "auto":
        cpus = os.cpu_count() or 1
        return cpus if cpus > 1 else 0
    try:
        return max(0, int(setting))
    except ValueError:
        raise ValueError(f"NEWSMON_WORKERS must be 'auto' or a number, got {setting!r}"
                         ) from None


def spare_cpus(load: float | None = None, cpus: int | None = None) -> bool:
    """Are there idle CPUs for workers?

    Workers on CPUs that other processes keep busy only add start-up and hand-over
    costs. The 1-minute load average already counts the crawl process itself, so
    what is left of the CPUs must be at least :data:`SPARE_CPU` of one.
    """
    cpus = cpus or os.cpu_count() or 1
    load = os.getloadavg()[0] if load is None else load
    return cpus - load >= SPARE_CPU


def _call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
          ) -> tuple[bool, Any]:
    """Run in a worker: the function's own exception comes back as a value, so the
    crawl process can tell it from a failure of the pool itself."""
    try:
        return True, func(*args, **kwargs)
    except Exception as exc:
        return False, exc


def _asyncio_reactor() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _watch_parent(parent: int) -> None:
    """Worker initializer: exit when the crawl process that started us is gone."""

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="newsmon-parent-watch", daemon=True).start()


class PurePool:
    """Runs pure functions in worker processes once a crawl is big enough.

    ``run`` is awaited by the pipelines; with no workers configured, before
    :data:`START_AFTER` calls, or after the pool broke, it calls the function in
    this process.
    """

    def __init__(self, workers: int, start_after: int = START_AFTER,
                 spare: Callable[[], bool] | None = None) -> None:
        self.workers = workers
        self.start_after = start_after
        self.spare = spare or spare_cpus
        self.calls = 0
        self.offloaded = 0
        self._executor: Executor | None = None
        self._broken = False

    def _ready_executor(self) -> Executor | None:
        if self.workers <= 0 or self._broken or self.calls <= self.start_after:
            return None
        if not _asyncio_reactor():
            return None  # awaiting a future needs the asyncio reactor (the default)
        if self._executor is None and not self.spare():
            self._broken = True  # decided once per crawl process
            log.info("no spare CPU (load average %.1f on %d CPUs): extracting in the crawl "
                     "process", os.getloadavg()[0], os.cpu_count() or 1)
            return None
        if self._executor is None:
            # spawn: a fork of a process running the reactor's threads is not safe.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                 initializer=_watch_parent,
                                                 initargs=(os.getpid(),))
            log.info("extracting in %d worker processes", self.workers)
        return self._executor

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self.calls += 1
        executor = self._ready_executor()
        if executor is None:
            return func(*args, **kwargs)
        try:
            ok, value = await asyncio.wrap_future(executor.submit(_call, func, args, kwargs))
        except Exception as exc:  # the pool failed, not the function: go on without it
            if not self._broken:
                log.error("worker processes failed (%s: %s); going on in the crawl process",
                          type(exc).__name__, exc)
            self._broken = True
            return func(*args, **kwargs)
        if not ok:
            raise value
        self.offloaded += 1
        result: T = value
        return result

    @property
    def started(self) -> bool:
        return self._executor is not None

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (for tests and diagnostics)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(int(pid) for pid in processes)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
