"""Benchmark: crawl throughput of the Celery executor with 1, 2 and 4 worker processes
against the local executor, in the same run.

Serves ``--sources`` (40) sample news sites, each on its own loopback address
(127.0.0.2, 127.0.0.3 …: distinct hosts, so the per-host politeness lease lets their
crawls run side by side) with a polite ``download_delay`` per site, and crawls every
source once per configuration into a fresh PostgreSQL schema:

* ``local``: the local executor's :class:`~scheduler.jobs.JobRunner`, ``--parallel``
  jobs at once (what one ``newsmon run --max-parallel N`` machine does);
* ``1``, ``2``, ``4`` workers: the jobs sent through RabbitMQ by the runner's
  :class:`~scheduler.cluster.dispatch.CeleryDispatcher` to that many ``newsmon worker
  --concurrency N`` processes (N = ``--parallel``), each a "machine".

Pages per minute = pages the crawls fetched (``crawl_runs.pages``) / wall time from the
first job sent to the last one ended. Ratios are against the local executor and
against one worker. On one machine every "machine" shares its CPUs, so the figure
for N workers there is a floor for N real machines, not a projection of them (see
README "Running on several machines" for how it scales).

    python bench/scale.py [--sources 40] [--parallel 2] [--workers 1,2,4] [--delay 0.5]
                          [--sitemaps] [--target 1.7] [--json]

Where a crawl's time goes (measured on this machine, one crawl alone): ~2 s to start
the ``newsmon crawl`` child (imports: ~1.3 CPU-s), ~1 s to open the spider, then one
request per ``download_delay`` per site (politeness), ~2 s to close; ~2.8 CPU-s in all
for the 23-page crawl. With the default 0.5 s delay and 12 pages a crawl takes ~11 s
of which ~6 s is the politeness wait, and a whole run (40 sources, local + 1, 2, 4
workers) 13½ minutes on this 2-core machine.

Needs RabbitMQ on 127.0.0.1:5672 and PostgreSQL (``NEWSMON_TEST_PG`` or
127.0.0.1:5432/test). Exits 1 when 2 workers are below ``--target`` × 1 worker.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from newsmon.config import load_config
from newsmon.samplesites import SampleSites
from newsmon.scheduler.cluster.dispatch import CeleryDispatcher
from newsmon.scheduler.jobs import JobRunner
from newsmon.scheduler.schedules import JobKind, JobSpec
from newsmon.storage.engine import Database
from newsmon.storage.models import CrawlRun, JobRun

PG_BASE_URL = os.environ.get("NEWSMON_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BROKER_URL = os.environ.get("NEWSMON_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
SITE = "bandao"  # a first crawl: 12 pages (robots, list, RSS, 9 articles); 23 with sitemaps


def source_block(sites: SampleSites, name: str, delay: float, sitemaps: bool) -> str:
    """The sample config's bandao entry renamed ``name``, with a polite delay; without
    its sitemap index (section pages, no new articles) unless ``sitemaps``."""
    text = sites.config_toml()
    start = text.index(f'name = "{SITE}"\n')
    end = text.find("[[sources]]", start)
    block = "[[sources]]\n" + text[start:end if end > 0 else len(text)]
    block = block.replace(f'name = "{SITE}"', f'name = "{name}"', 1)
    if not sitemaps:
        block = "".join(line for line in block.splitlines(keepends=True)
                        if not line.startswith("sitemaps = "))
    return block.replace("download_delay = 0.0", f"download_delay = {delay}")


def write_config(path: Path, servers: list[SampleSites], delay: float, queue: str,
                 sitemaps: bool = False) -> None:
    head = ('[settings]\ntimezone = "Asia/Shanghai"\nbackfill_window = "off"\n'
            f'concurrency_per_domain = 1\nexecutor = "celery"\nqueue = "{queue}"\n\n')
    blocks = [source_block(s, f"site{i:02d}", delay, sitemaps)
              for i, s in enumerate(servers)]
    path.write_text(head + "\n".join(blocks), encoding="utf-8")


@contextlib.contextmanager
def serve(count: int) -> Iterator[list[SampleSites]]:
    servers = [SampleSites(day=1, host=f"127.0.0.{i + 2}") for i in range(count)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextlib.contextmanager
def fresh_schema() -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = PG_BASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"'.encode())
    try:
        yield f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())


def specs(count: int) -> list[JobSpec]:
    return [JobSpec(JobKind.CRAWL, f"site{i:02d}", "", "Asia/Shanghai", timedelta(minutes=30))
            for i in range(count)]


def pages_and_span(database: Database) -> tuple[int, int, float]:
    """Pages fetched, finished job runs, and seconds from the first job's start to the
    last one's end."""
    with database.session() as session:
        pages = session.scalar(select(func.coalesce(func.sum(CrawlRun.pages), 0))) or 0
        done = session.scalar(select(func.count()).select_from(JobRun)
                              .where(JobRun.finished_at.is_not(None))) or 0
    return int(pages), int(done), 0.0


def run_local(config: Path, url: str, jobs: list[JobSpec], parallel: int) -> tuple[int, float]:
    database = Database(url)
    database.ensure_schema()
    runner = JobRunner(database, url, str(config), holder="bench-local",
                       may_start=lambda _now: True)
    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(runner.run, jobs))
    seconds = time.perf_counter() - started
    pages, _done, _ = pages_and_span(database)
    database.dispose()
    return pages, seconds


def run_workers(config: Path, url: str, jobs: list[JobSpec], workers: int, parallel: int,
                logs: Path) -> tuple[int, float]:
    database = Database(url)
    database.ensure_schema()
    env = {**os.environ, "NEWSMON_BROKER_URL": BROKER_URL, "PYTHONUNBUFFERED": "1"}
    procs = []
    for n in range(workers):
        out = (logs / f"worker{workers}-{n}.out").open("wb")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "newsmon", "--db", url, "--config", str(config), "worker",
             "--concurrency", str(parallel)], stdout=out, stderr=subprocess.STDOUT, env=env))
    try:
        wait_for_workers(database, workers)
        cfg = load_config(config)
        dispatcher = CeleryDispatcher(BROKER_URL, cfg.settings.queue, holder="bench-runner",
                                      may_start=lambda _now: True)
        started = time.perf_counter()
        for job in jobs:
            dispatcher.run(job)
        dispatcher.close()
        while pages_and_span(database)[1] < len(jobs):
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker exited; see {logs}")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        pages = pages_and_span(database)[0]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        database.dispose()
    return pages, seconds


def wait_for_workers(database: Database, count: int) -> None:
    from newsmon.scheduler.jobs import utc_now
    from newsmon.storage.workers import workers_seen_since

    deadline = time.monotonic() + 120
    since = utc_now()
    while time.monotonic() < deadline:
        with database.session() as session:
            if len([w for w in workers_seen_since(session, since)
                    if w.stopped_at is None]) >= count:
                return
        time.sleep(0.2)
    raise SystemExit(f"{count} workers did not start within 120 s")


def purge_queues(queue: str) -> None:
    from kombu import Connection

    from newsmon.scheduler.cluster.messages import all_queue_names

    with Connection(BROKER_URL) as connection:
        channel = connection.channel()
        for name in all_queue_names(queue):
            with contextlib.suppress(Exception):
                channel.queue_delete(queue=name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=2,
                        help="jobs at once per worker process, and for the local executor")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--delay", type=float, default=0.5,
                        help="download_delay per site (politeness), seconds")
    parser.add_argument("--sitemaps", action="store_true",
                        help="crawl each site's sitemap index too (23 pages, not 12)")
    parser.add_argument("--target", type=float, default=1.7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    queue = f"bench{uuid.uuid4().hex[:8]}"
    load_before = os.getloadavg()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-scale-") as tmp, \
            serve(args.sources) as servers:
        work = Path(tmp)
        config = work / "sites.toml"
        write_config(config, servers, args.delay, queue, args.sitemaps)
        jobs = specs(args.sources)
        try:
            with fresh_schema() as url:
                pages, seconds = run_local(config, url, jobs, args.parallel)
            results["local"] = {"pages": pages, "seconds": seconds}
            for count in counts:
                with fresh_schema() as url:
                    pages, seconds = run_workers(config, url, jobs, count, args.parallel, work)
                results[f"{count} worker(s)"] = {"pages": pages, "seconds": seconds}
        finally:
            purge_queues(queue)
    for row in results.values():
        row["pages_per_minute"] = row["pages"] / row["seconds"] * 60
    local = results["local"]["pages_per_minute"]
    one = results.get("1 worker(s)", {}).get("pages_per_minute", 0.0)
    for row in results.values():
        row["vs_local"] = row["pages_per_minute"] / local
        row["vs_1_worker"] = row["pages_per_minute"] / one if one else 0.0
    two = results.get("2 worker(s)", {}).get("vs_1_worker", 0.0)
    if args.json:
        print(json.dumps({"sources": args.sources, "parallel": args.parallel,
                          "delay": args.delay, "cpus": os.cpu_count(),
                          "load_before": load_before, "load_after": os.getloadavg(),
                          "results": results}, indent=2))
    else:
        print(f"{args.sources} sources on {args.sources} hosts, download_delay {args.delay}s, "
              f"{args.parallel} jobs per worker; {os.cpu_count()} CPUs, load average "
              f"(1/5/15 min) before {_loads(load_before)}, after {_loads(os.getloadavg())}")
        print(f"{'executor':<14}{'pages':>7}{'seconds':>9}{'pages/min':>11}"
              f"{'vs local':>10}{'vs 1 worker':>13}")
        for name, row in results.items():
            print(f"{name:<14}{row['pages']:>7.0f}{row['seconds']:>9.1f}"
                  f"{row['pages_per_minute']:>11.0f}{row['vs_local']:>10.2f}"
                  f"{row['vs_1_worker']:>13.2f}")
    if two and two < args.target:
        print(f"2 workers: {two:.2f}x one worker, below the target {args.target}x",
              file=sys.stderr)
        return 1
    return 0


def _loads(loads: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in loads)


if __name__ == "__main__":
    sys.exit(main())
