"""The real ``newsmon run`` service, as a child process, against the sample sites.

Schedules have a seconds field so jobs fire every few seconds. Every wait polls the
job ledger, the run ledger or the service log with a generous deadline; nothing
asserts how long anything took.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import JobRunRecord, finish_job_run, start_job_run
from newsmon.storage.models import CrawlRun
from newsmon.textnorm import normalize
from tests.conftest import Newsmon
from tests.scheduler_support import (
    ServiceLauncher,
    articles,
    crawl_runs,
    digest_lines,
    ended,
    launcher,
    ledger,
    matched_article_ids,
    pid_alive,
    scheduled_config,
    wait_until,
)

__all__ = ["launcher"]  # the fixture, re-exported for pytest

def setup(launcher: ServiceLauncher, config: Path, *topic: str) -> Newsmon:
    launcher.newsmon.config = config
    if topic:
        launcher.newsmon("topics", "add", *topic)
    return launcher.newsmon


def article_requests(sites: SampleSites, after_seq: int) -> list[str]:
    """Article pages (of any day) fetched after request number ``after_seq``."""
    pages = {a.path for a in sites.articles(day=2)}
    paths = (entry.path.split("?", 1)[0] for entry in sites.requests.entries()
             if entry.seq > after_seq and entry.method == "GET")
    return [path for path in paths if path in pages]


def source_line(config: Path, name: str) -> int:
    """The line of the ``[[sources]]`` header of source ``name``."""
    lines = config.read_text(encoding="utf-8").splitlines()
    at = lines.index(f'name = "{name}"')
    return max(n for n in range(at) if lines[n] == "[[sources]]") + 1


def test_scheduled_crawls_fetch_only_new_pages_and_each_match_is_delivered_once(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    crawl_every_20s = "*/20 * * * * *"
    config = scheduled_config(sites, tmp_path / "sites.toml",
                              {"dzwww": crawl_every_20s, "wenweipo": crawl_every_20s},
                              digest="*/4 * * * * *")
    newsmon = setup(launcher, config, "青島", "青島")
    service = launcher.start()
    db = newsmon.db_url

    def runs_since(job: str, since: datetime) -> Callable[[], list[JobRunRecord]]:
        return lambda: [r for r in ended(ledger(db, job)) if r.started_at > since]

    crawls = ("crawl:dzwww", "crawl:wenweipo")
    for job in crawls:
        wait_until(runs_since(job, datetime.min.replace(tzinfo=UTC)), 120, f"a first {job}")
    switched_at = datetime.now(UTC)
    seen = max(entry.seq for entry in sites.requests.entries())
    sites.set_day(2)
    for job in crawls:
        wait_until(runs_since(job, switched_at), 120, f"a {job} run after the switch")
    last_crawl_end = max(r.finished_at for r in ledger(db) if r.job_id in crawls
                         and r.finished_at is not None)
    wait_until(runs_since("digest:daily", last_crawl_end), 60, "a digest after the crawls")
    assert service.stop() == 0

    # The crawls after the switch fetched the new article pages, each once, and no other.
    new_pages = ({a.path for a in sites.articles(site, day=2)} -
                 {a.path for a in sites.articles(site, day=1)}
                 for site in ("dzwww", "wenweipo"))
    expected = set().union(*new_pages)
    fetched = article_requests(sites, seen)
    assert Counter(fetched) == Counter(expected), fetched

    # Every match reached the digest exactly once: its URL is printed once in all the
    # digest jobs' output, and no unmatched article is printed.
    stored = {a.id: a.url for a in articles(db)}
    matched = matched_article_ids(db)
    assert len(matched) == 2  # the seed on day one, its republication on day two
    printed = Counter(url for line in digest_lines(service.log()) for url in stored.values()
                      if url in line.split())
    assert printed == Counter({stored[article_id]: 1 for article_id in matched})

    log = service.log()
    for job in ("crawl:dzwww", "crawl:wenweipo", "digest:daily"):
        starts = len(re.findall(rf"job {job} started", log))
        ends = len(re.findall(rf"job {job} ended: ok", log))
        assert starts == ends == len(ledger(db, job)) >= 2, job


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                             marks=pytest.mark.postgres)])
def test_two_services_on_one_database_run_jobs_once_and_hand_over_on_kill(
        backend: str, sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    if backend == "postgresql":
        launcher.newsmon.db_url = str(request.getfixturevalue("pg_url"))
    db = launcher.newsmon.db_url
    config = scheduled_config(sites, tmp_path / "sites.toml", {}, digest="*/2 * * * * *")
    setup(launcher, config)
    first = launcher.start(name="first", lease="4s")
    first.wait_for_log("lease acquired")
    second = launcher.start(name="second", lease="4s")
    waiting = second.wait_for_log(r"waiting: another newsmon run holds the runner lease on "
                                  r"this database \(holder (\S+),")
    assert waiting.group(1) == first.holder

    wait_until(lambda: len(ended(ledger(db))) >= 3, 60, "three digests by the first service")
    assert {r.holder for r in ledger(db)} == {first.holder}
    assert "job digest:daily started" not in second.log()

    first.kill_hard()
    killed_at = datetime.now(UTC)
    second.wait_for_log("lease acquired", timeout=4 + 30)
    wait_until(lambda: [r for r in ended(ledger(db)) if r.holder == second.holder], 60,
               "a digest by the second service")
    assert second.stop() == 0

    runs = ledger(db)
    by_first = [r for r in runs if r.holder == first.holder]
    by_second = [r for r in runs if r.holder == second.holder]
    assert by_second and all(r.started_at > killed_at for r in by_second)
    # never two runners at once: the first one's runs all started before the kill
    assert all(r.started_at < killed_at for r in by_first)
    # a digest the kill cut short is recorded as interrupted, not left running
    assert all(r.status in ("ok", "interrupted") for r in by_first)
    assert not [r for r in runs if r.status == "running"]


def test_kill_9_mid_crawl_then_restart_loses_nothing_and_records_the_interruption(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    terms = ("台灣", "中國", "青島")
    config = tmp_path / "sites.toml"
    scheduled_config(sites, config, {"dzwww": "*/5 * * * * *"}, hold=["dzwww"])
    newsmon = setup(launcher, config, "watch", " OR ".join(terms))
    db = newsmon.db_url
    first = launcher.start(name="first")

    day_one = sites.articles("dzwww", day=1)

    def crawling_with_articles_fetched() -> list[CrawlRun]:
        # The crawl has fetched every article page (stored or still in its write
        # batch) and waits on the slow page: well inside the crawl, before matching.
        running = [r for r in crawl_runs(db) if r.status == "running"]
        fetched = set(article_requests(sites, 0))
        return running if running and fetched >= {a.path for a in day_one} else []

    [crawl] = wait_until(crawling_with_articles_fetched, 120,
                         "a crawl that has fetched the article pages")
    assert crawl.pid is not None
    first.kill_hard()
    # the crawl dies with the service (parent-death signal), it does not go on alone
    wait_until(lambda: not pid_alive(crawl.pid or 0), 30, f"crawl pid {crawl.pid} to end")

    scheduled_config(sites, config, {"dzwww": "*/5 * * * * *"})  # no slow page this time
    second = launcher.start(name="second")
    second.wait_for_log(r"job crawl:dzwww run \d+ .* marked interrupted")
    catch_up = wait_until(lambda: [r for r in ended(ledger(db, "crawl:dzwww"))
                                   if r.catch_up], 120, "the catch-up crawl to finish")
    assert second.stop() == 0

    [interrupted, *rest] = ledger(db, "crawl:dzwww")
    assert interrupted.status == "interrupted" and interrupted.holder != catch_up[0].holder
    assert catch_up[0] in rest
    killed_crawl = next(r for r in crawl_runs(db) if r.id == crawl.id)
    assert killed_crawl.status == "interrupted"
    assert "died" in (killed_crawl.finish_reason or "")
    assert not [r for r in crawl_runs(db) if r.status == "running"]

    stored = articles(db)
    assert len(stored) == len({a.canonical_url for a in stored}) == len(day_one)
    wanted = [normalize(term) for term in terms]
    expected = {a.id for a in stored
                if any(w in a.title_norm or w in a.body_norm for w in wanted)}
    assert len(expected) >= 3
    assert Counter(matched_article_ids(db)) == Counter(expected)  # each once


def test_a_crawl_over_its_time_limit_is_ended_the_next_still_runs_and_a_stop_interrupts(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    config = scheduled_config(sites, tmp_path / "sites.toml", {"dzwww": "*/3 * * * * *"},
                              hold=["dzwww"])
    newsmon = setup(launcher, config)
    db = newsmon.db_url
    service = launcher.start("--crawl-timeout", "15s", grace="1s")
    wait_until(lambda: ended(ledger(db, "crawl:dzwww"), "timeout"), 120,
               "a crawl ended at its time limit")

    def second_crawl_running() -> list[CrawlRun]:
        runs = ledger(db, "crawl:dzwww")
        pid = runs[-1].pid if len(runs) == 2 and runs[-1].status == "running" else None
        return [r for r in crawl_runs(db) if pid is not None and r.pid == pid]

    wait_until(second_crawl_running, 60, "the next crawl running")
    assert service.stop(signal.SIGTERM) == 0  # well before its 15 s are up

    runs = ledger(db, "crawl:dzwww")
    assert [r.status for r in runs] == ["timeout", "interrupted"]
    crawls = crawl_runs(db)
    assert [c.status for c in crawls] == ["timeout", "interrupted"]
    assert "time limit" in (crawls[0].finish_reason or "")
    assert "stopped" in (crawls[1].finish_reason or "")
    log = service.log()
    assert log.count("reached its time limit") == 1
    # slots that fell while a crawl ran are logged once each, by the service
    assert "skipped, its previous run is still going" in log
    assert "maximum number of running instances" not in log
    assert re.search(r"job crawl:dzwww ended: timeout", log)
    assert re.search(r"job crawl:dzwww ended: interrupted", log)
    assert "SIGTERM: stopping" in log


def test_after_downtime_a_missed_crawl_runs_once_not_once_per_slot(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    # daily at 03:00 Shanghai: it cannot fire by itself during the test
    config = scheduled_config(sites, tmp_path / "sites.toml", {"dzwww": "0 3 * * *"},
                              digest="0 3 * * *")
    newsmon = setup(launcher, config)
    db = newsmon.db_url
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    database = Database(db)
    with database.session() as session, session.begin():
        run = start_job_run(session, "crawl:dzwww", scheduled_for=three_days_ago,
                            started_at=three_days_ago, holder="old", host="old")
        finish_job_run(session, run, finished_at=three_days_ago + timedelta(seconds=9),
                       status="ok", exit_code=0, detail="")
    database.dispose()

    service = launcher.start()
    service.wait_for_log(r"job crawl:dzwww scheduled: .* catching up now")
    [catch_up] = wait_until(lambda: ended(ledger(db, "crawl:dzwww"))[1:], 120,
                            "the catch-up crawl")
    assert catch_up.catch_up
    # the missed slot it makes up for is the first after the last run (3 days ago)
    assert catch_up.scheduled_for is not None
    assert catch_up.scheduled_for - three_days_ago < timedelta(days=1)
    # Catching up once per missed slot would start the next run right after this one
    # (same worker thread); give such a run the moment it would need to show up.
    time.sleep(2)
    assert service.stop() == 0
    assert len(ledger(db, "crawl:dzwww")) == 2
    assert ledger(db, "digest:daily") == []  # never ran before: owes no catch-up


def test_sighup_reconciles_a_removed_schedule_never_runs_again(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    config = scheduled_config(sites, tmp_path / "sites.toml", {}, digest="*/2 * * * * *")
    newsmon = setup(launcher, config)
    db = newsmon.db_url
    service = launcher.start()
    wait_until(lambda: ended(ledger(db, "digest:daily")), 60, "a digest")

    text = config.read_text(encoding="utf-8")
    edited = text.replace('name = "daily"', 'name = "evening"')
    config.write_text(edited, encoding="utf-8")
    service.process.send_signal(signal.SIGHUP)
    service.wait_for_log("job digest:daily removed")
    service.wait_for_log("job digest:evening scheduled")
    wait_until(lambda: not [r for r in ledger(db, "digest:daily") if r.finished_at is None],
               60, "the last daily digest to end")
    daily_runs = len(ledger(db, "digest:daily"))
    wait_until(lambda: len(ended(ledger(db, "digest:evening"))) >= 2, 60, "two evening digests")
    assert service.stop() == 0
    assert len(ledger(db, "digest:daily")) == daily_runs


def test_a_bad_schedule_is_refused_with_file_and_line(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    config = scheduled_config(sites, tmp_path / "sites.toml", {"bandao": "0 7 * * 9"})
    newsmon = setup(launcher, config)
    result = newsmon("run", "--dry-run", check=False)
    assert result.returncode == 2
    lines = config.read_text(encoding="utf-8").splitlines()  # the schedule's own line
    schedule = lines.index('schedule = "0 7 * * 9"', source_line(config, "bandao")) + 1
    assert f"{config}:{schedule}: source 'bandao': 'schedule'" in result.stderr
    assert "day-of-week" in result.stderr


def test_dry_run_lists_each_job_with_its_next_run_in_its_zone(
        sites: SampleSites, launcher: ServiceLauncher, tmp_path: Path) -> None:
    config = scheduled_config(sites, tmp_path / "sites.toml", {"dzwww": "0 7 * * 1-5"},
                              digest="30 7 * * *")
    newsmon = setup(launcher, config)
    out = newsmon("run", "--dry-run").stdout
    assert re.search(r"crawl:dzwww\s+0 7 \* \* 1-5\s+Asia/Shanghai\s+"
                     r"\d{4}-\d\d-\d\d 07:00:00 CST \(Asia/Shanghai\)", out), out
    assert re.search(r"digest:daily\s+30 7 \* \* \*", out), out
    nothing = scheduled_config(sites, tmp_path / "none.toml", {})
    launcher.newsmon.config = nothing
    refused = newsmon("run", check=False)
    assert refused.returncode == 2 and "nothing to run" in refused.stderr
