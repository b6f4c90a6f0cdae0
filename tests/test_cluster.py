"""The Celery executor end to end: the real RabbitMQ, the real PostgreSQL, real
``newsmon run`` and ``newsmon worker`` processes crawling the sample sites over HTTP.

What each test proves:

* a runner and three workers crawl every source; no job runs twice at once and no
  two crawls of one host overlap (the per-job and per-host leases, read from the run
  rows' start and end), and the archive equals a local crawl's;
* a worker killed with SIGKILL mid-crawl: its message is redelivered (same task id),
  the run is recorded ``interrupted`` and runs again to the end on another worker;
  nothing is stored twice and nothing is missing;
* a broker that cannot be reached: the runner keeps going, one log line per attempt,
  and the job missed meanwhile is caught up once a runner has the right broker;
* a worker that cannot reach the database fails the job in one line and goes on.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from newsmon.samplesites import SampleSites
from newsmon.scheduler.cluster.dispatch import CeleryDispatcher
from newsmon.scheduler.schedules import JobKind, JobSpec
from newsmon.storage.jobruns import JobRunRecord
from tests.cluster_support import (
    BROKER_URL,
    Cluster,
    celery_settings,
    overlapping,
    queue_prefix,
    unused_port,
)
from tests.conftest import Newsmon
from tests.scheduler_support import (
    articles,
    crawl_runs,
    ended,
    ledger,
    pid_alive,
    scheduled_config,
    wait_until,
)

__all__ = ["queue_prefix", "unused_port"]  # the fixtures, re-exported for pytest

pytestmark = pytest.mark.postgres

SOURCES = ("dzwww", "qingdaonews", "bandao", "wenweipo")


def _cluster(sites: SampleSites, tmp_path: Path, pg_url: str, prefix: str,
             crawls: dict[str, str]) -> Cluster:
    config = scheduled_config(sites, tmp_path / "sites.toml", crawls)
    config.write_text(celery_settings(config.read_text(encoding="utf-8"), prefix),
                      encoding="utf-8")
    return Cluster(Newsmon(pg_url, config, home=tmp_path / "home"), tmp_path)


def _archive(db_url: str) -> set[tuple[str, str, str]]:
    stored = articles(db_url)
    urls = Counter(a.canonical_url for a in stored)
    assert [url for url, n in urls.items() if n > 1] == []
    return {(a.canonical_url, a.title, a.content_hash) for a in stored}


def _local_archive(cluster: Cluster, sqlite_url: str, *sources: str) -> set[tuple[str, str, str]]:
    local = Newsmon(sqlite_url, cluster.newsmon.config, home=cluster.directory / "home")
    local("crawl", *[arg for name in sources for arg in ("--source", name)], "--no-progress",
          check=False)
    return _archive(sqlite_url)


def test_a_runner_and_three_workers_crawl_every_source_one_at_a_time(
        sites: SampleSites, tmp_path: Path, pg_url: str, sqlite_url: str,
        queue_prefix: str) -> None:
    cluster = _cluster(sites, tmp_path, pg_url, queue_prefix,
                       dict.fromkeys(SOURCES, "*/3 * * * * *"))
    try:
        workers = [cluster.worker(f"worker{n}", "--concurrency", "2") for n in range(3)]
        names = {w.worker_name for w in workers}
        runner = cluster.runner("run")

        def every_source_crawled() -> bool:
            done = Counter(r.job_id for r in ended(ledger(pg_url)))
            return all(done[f"crawl:{s}"] >= 1 for s in SOURCES)

        wait_until(every_source_crawled, 240, "a finished crawl of every source")
        status = json.loads(cluster.newsmon("status", "--json", check=False).stdout)
        assert runner.stop() == 0
        wait_until(lambda: all(r.finished_at for r in ledger(pg_url)), 120,
                   "the workers to finish the jobs they had")
        for worker in workers:
            assert worker.stop() == 0, worker.output()[-3000:]
    finally:
        cluster.cleanup()

    listed = {w["name"]: w for w in status["workers"] if "name" in w}
    assert set(listed) == names
    assert all(w["state"] == "up" and w["host"] and w["pid"] > 0 and w["jobs_running"] >= 0
               and w["last_heartbeat"] for w in listed.values())
    queues = {q["queue"]: q["waiting"] for q in status["workers"] if "queue" in q}
    assert set(queues) == {f"{queue_prefix}.{kind}" for kind in ("crawl", "digest", "revisit")}
    assert all(isinstance(n, int) and n >= 0 for n in queues.values())

    runs = ledger(pg_url)
    assert {r.status for r in runs} <= {"ok"}, [(r.job_id, r.status, r.detail) for r in runs]
    assert {r.worker for r in runs} <= names  # every run names the worker that ran it
    assert all(r.task_id for r in runs)
    for source in SOURCES:
        assert overlapping([r for r in runs if r.job_id == f"crawl:{source}"]) == []
    # The sample sites share one host, 127.0.0.1: its lease lets one crawl at a time
    # talk to it, whichever worker runs it.
    assert overlapping(runs) == []
    assert len({c.pid for c in crawl_runs(pg_url)}) == len(runs)
    assert _archive(pg_url) == _local_archive(cluster, sqlite_url, *SOURCES)
    assert len(_archive(pg_url)) > 20


def _held_config(sites: SampleSites, tmp_path: Path, pg_url: str, prefix: str) -> Cluster:
    """bandao also lists the broken site's slow page (answers after 20 s): its crawl
    stores the articles fast, then waits — a crawl to kill a worker under."""
    cluster = _cluster(sites, tmp_path, pg_url, prefix, {})
    assert cluster.newsmon.config is not None
    text = cluster.newsmon.config.read_text(encoding="utf-8")
    start = text.index('name = "bandao"\n')
    at = text.index("lists = [", start) + len("lists = [")
    slow = sites.url("/broken/slow.html?delay=20")
    cluster.newsmon.config.write_text(text[:at] + f'"{slow}", ' + text[at:], encoding="utf-8")
    return cluster


def _send(prefix: str, target: str) -> None:
    dispatcher = CeleryDispatcher(BROKER_URL, prefix, holder="test-runner",
                                  may_start=lambda _now: True)
    try:
        dispatcher.run(JobSpec(JobKind.CRAWL, target, "", "Asia/Shanghai",
                               timedelta(minutes=5)))
        assert dispatcher.owed() == []
    finally:
        dispatcher.close()


def test_a_worker_killed_mid_crawl_has_its_job_rerun_on_another(
        sites: SampleSites, tmp_path: Path, pg_url: str, sqlite_url: str,
        queue_prefix: str) -> None:
    cluster = _held_config(sites, tmp_path, pg_url, queue_prefix)
    try:
        workers = {}
        for n in range(2):
            proc = cluster.worker(f"worker{n}", "--concurrency", "1")
            workers[proc.worker_name] = proc
        _send(queue_prefix, "bandao")

        def crawling_with_articles() -> JobRunRecord | None:
            runs = [r for r in ledger(pg_url) if r.status == "running" and r.pid]
            return runs[0] if runs and articles(pg_url) else None

        first = wait_until(crawling_with_articles, 120, "a running crawl that stored articles")
        assert first.worker is not None and first.pid is not None
        victim = workers.pop(first.worker)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=30)
        wait_until(lambda: not pid_alive(first.pid or 0), 30,
                   "the killed worker's crawl process to die with it")

        def rerun_finished() -> bool:
            return any(r.status == "ok" for r in ledger(pg_url, "crawl:bandao"))

        wait_until(rerun_finished, 180, "the redelivered crawl to finish on the other worker")
        [survivor] = workers.values()
        assert survivor.stop() == 0
    finally:
        cluster.cleanup()

    runs = ledger(pg_url, "crawl:bandao")
    assert [(r.status, r.worker) for r in runs] == [
        ("interrupted", first.worker), ("ok", next(iter(workers)))]
    assert runs[0].task_id == runs[1].task_id  # the same message, redelivered
    assert "worker died" in (runs[0].detail or "")
    killed = [c for c in crawl_runs(pg_url) if c.pid == first.pid]
    assert [c.status for c in killed] == ["interrupted"]
    assert _archive(pg_url) == _local_archive(cluster, sqlite_url, "bandao")


def test_a_runner_whose_broker_is_down_keeps_its_schedule_and_catches_up(
        sites: SampleSites, tmp_path: Path, pg_url: str, queue_prefix: str,
        unused_port: int) -> None:
    cluster = _cluster(sites, tmp_path, pg_url, queue_prefix, {"dzwww": "*/20 * * * * *"})
    try:
        worker = cluster.worker("worker")
        worker.wait_for("queues")
        first = cluster.runner("run1")
        wait_until(lambda: ended(ledger(pg_url, "crawl:dzwww")), 120, "a first crawl")
        assert first.stop() == 0

        closed = f"amqp://guest:guest@127.0.0.1:{unused_port}//"
        down = cluster.runner("run2", broker_url=closed)
        down.wait_for(r"lease acquired")
        down.wait_for(r"job crawl:dzwww not sent: broker amqp://guest@127\.0\.0\.1:\d+// "
                      r"unreachable .*; sending it once the broker is back", timeout=60)
        down.wait_for(r"job crawl:dzwww not sent: .*still owed", timeout=60)
        assert down.process.poll() is None  # still running, still scheduling
        assert down.stop() == 0
        log = down.output()
        failures = [line for line in log.splitlines() if "not sent: broker" in line]
        assert "Traceback" not in log
        assert all(line.count(" not sent: ") == 1 for line in failures)
        runs_while_down = len(ledger(pg_url, "crawl:dzwww"))

        back = cluster.runner("run3")
        back.wait_for(r"job crawl:dzwww scheduled: .*catching up now for the run due")
        wait_until(lambda: any(r.catch_up and r.status == "ok"
                               for r in ledger(pg_url, "crawl:dzwww")), 120,
                   "the missed crawl to run once the broker is reachable")
        assert back.stop() == 0
        assert worker.stop() == 0
    finally:
        cluster.cleanup()
    runs = ledger(pg_url, "crawl:dzwww")
    assert len(runs) > runs_while_down
    assert {r.status for r in runs} == {"ok"}


def test_a_worker_without_its_database_fails_the_job_with_the_reason(
        sites: SampleSites, tmp_path: Path, pg_url: str, queue_prefix: str,
        unused_port: int) -> None:
    cluster = _cluster(sites, tmp_path, pg_url, queue_prefix, {})
    cluster.newsmon.db_url = f"postgresql+psycopg://postgres@127.0.0.1:{unused_port}/test"
    try:
        worker = cluster.worker("worker")
        worker.wait_for("queues")
        _send(queue_prefix, "dzwww")
        worker.wait_for(r"job crawl:dzwww failed on newsmon-\d+@\S+: cannot reach the "
                        r"database postgresql\+psycopg://postgres@127\.0\.0\.1:\d+/test "
                        r"to take its leases: .*", timeout=60)
        assert worker.process.poll() is None  # the worker goes on with the next job
        assert worker.stop() == 0
    finally:
        cluster.cleanup()
