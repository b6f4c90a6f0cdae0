"""The runner lease and the job ledger on real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from newsmon.scheduler.lease import RunnerLease
from newsmon.storage.articles import ensure_source
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import (
    close_child_crawl_runs,
    finish_job_run,
    interrupt_stale_job_runs,
    job_runs,
    latest_job_runs,
    record_missed_run,
    set_job_child,
    start_job_run,
)
from newsmon.storage.leases import read_lease, release_lease, renew_lease, try_acquire_lease
from newsmon.storage.models import CrawlRun
from newsmon.storage.runs import start_run

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


def acquire(database: Database, holder: str, now: datetime, name: str = "runner") -> bool:
    with database.session() as session, session.begin():
        return try_acquire_lease(session, name, holder, now, TTL)


def test_the_lease_has_one_holder_until_it_expires(database: Database) -> None:
    assert acquire(database, "a", T0)
    assert not acquire(database, "b", T0 + timedelta(seconds=1))
    with database.session() as session, session.begin():
        state = read_lease(session, "runner")
        assert state is not None and state.holder == "a"
        assert state.expires_at == T0 + TTL and state.is_live(T0 + TTL - timedelta(seconds=1))
        assert renew_lease(session, "runner", "a", T0 + timedelta(seconds=20), TTL)
        assert not renew_lease(session, "runner", "b", T0 + timedelta(seconds=20), TTL)
    # renewed at +20 s: still a's at +40 s, free at +51 s
    assert not acquire(database, "b", T0 + timedelta(seconds=40))
    assert acquire(database, "b", T0 + timedelta(seconds=51))
    with database.session() as session, session.begin():
        assert not renew_lease(session, "runner", "a", T0 + timedelta(seconds=52), TTL)
        assert not release_lease(session, "runner", "a")  # not a's to release
        state = read_lease(session, "runner")
        assert state is not None and state.holder == "b"
        assert state.acquired_at == T0 + timedelta(seconds=51)
        assert release_lease(session, "runner", "b")
        assert read_lease(session, "runner") is None
    assert acquire(database, "a", T0 + timedelta(seconds=53))  # released: free at once


def test_taking_the_lease_again_while_holding_it_keeps_it(database: Database) -> None:
    assert acquire(database, "a", T0)
    assert acquire(database, "a", T0 + timedelta(seconds=5))
    assert not acquire(database, "b", T0 + TTL)  # a's re-take pushed the expiry


def test_racing_processes_never_both_win(db_url: str) -> None:
    """Eight threads, each with its own engine, race for the same free or expired lease."""
    contenders = [Database(db_url) for _ in range(8)]
    for db in contenders:  # migrate one at a time: Alembic's context is process-global
        db.ensure_schema()
    try:
        for round_number, now in enumerate([T0, T0 + 2 * TTL, T0 + 4 * TTL]):
            barrier = threading.Barrier(len(contenders))
            wins: list[str] = []

            def contend(db: Database, holder: str, now: datetime = now,
                        barrier: threading.Barrier = barrier, wins: list[str] = wins) -> None:
                barrier.wait(timeout=30)
                if acquire(db, holder, now):
                    wins.append(holder)

            threads = [threading.Thread(target=contend, args=(db, f"h{round_number}-{i}"))
                       for i, db in enumerate(contenders)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert len(wins) == 1, (round_number, wins)
    finally:
        for db in contenders:
            db.dispose()


def test_runner_lease_knows_when_it_may_run_jobs(database: Database) -> None:
    first = RunnerLease(database, "first", ttl=TTL)
    second = RunnerLease(database, "second", ttl=TTL)
    assert first.try_acquire(T0) and first.is_held(T0 + TTL - timedelta(seconds=1))
    assert not first.is_held(T0 + TTL)  # by its own clock, without asking the database
    assert not second.try_acquire(T0 + timedelta(seconds=1))
    assert not second.is_held(T0 + timedelta(seconds=1))
    assert second.try_acquire(T0 + TTL + timedelta(seconds=1))  # first stopped renewing
    assert not first.renew(T0 + TTL + timedelta(seconds=2))
    assert not first.is_held(T0 + TTL + timedelta(seconds=2))
    current = first.current()
    assert current is not None and current.holder == "second"
    assert first.renew_interval == TTL / 3


def test_the_job_ledger_keeps_the_newest_run_per_job(database: Database) -> None:
    with database.session() as session, session.begin():
        first = start_job_run(session, "crawl:a", scheduled_for=T0, started_at=T0,
                              holder="h", host="box")
        finish_job_run(session, first, finished_at=T0 + timedelta(seconds=9), status="ok",
                       exit_code=0, detail="14 pages")
        second = start_job_run(session, "crawl:a", scheduled_for=None,
                               started_at=T0 + timedelta(hours=1), holder="h", host="box",
                               catch_up=True)
        set_job_child(session, second, 4321)
        record_missed_run(session, "digest:d", scheduled_for=T0, now=T0 + timedelta(hours=7),
                          holder="h", host="box", detail="not started within 6:00:00")
    with database.session() as session:
        latest = latest_job_runs(session)
        assert set(latest) == {"crawl:a", "digest:d"}
        assert latest["crawl:a"].id == second and latest["crawl:a"].status == "running"
        assert latest["crawl:a"].pid == 4321 and latest["crawl:a"].catch_up
        assert latest["digest:d"].status == "missed"
        assert latest_job_runs(session, ["digest:d"]).keys() == {"digest:d"}
        [done, _] = job_runs(session, "crawl:a")
        assert (done.status, done.exit_code, done.detail) == ("ok", 0, "14 pages")
        assert done.finished_at == T0 + timedelta(seconds=9)


def test_a_dead_runners_jobs_and_their_crawls_are_marked_interrupted(
        database: Database) -> None:
    with database.session() as session, session.begin():
        source_id = ensure_source(session, "dzwww")
        dead = start_job_run(session, "crawl:dzwww", scheduled_for=T0, started_at=T0,
                             holder="dead", host="box")
        set_job_child(session, dead, 777)
        mine = start_job_run(session, "crawl:other", scheduled_for=T0, started_at=T0,
                             holder="me", host="box")
        crawl_id = start_run(session, source_id, T0 + timedelta(seconds=1))
        session.get_one(CrawlRun, crawl_id).host = "box"
        session.get_one(CrawlRun, crawl_id).pid = 777
        finished_id = start_run(session, source_id, T0 + timedelta(seconds=1))
        session.get_one(CrawlRun, finished_id).host = "box"
        session.get_one(CrawlRun, finished_id).pid = 777
        session.get_one(CrawlRun, finished_id).status = "finished"
    later = T0 + timedelta(minutes=5)
    with database.session() as session, session.begin():
        stale = interrupt_stale_job_runs(session, holder="me", now=later, detail="runner died")
        assert [(r.id, r.pid) for r in stale] == [(dead, 777)]
        closed = close_child_crawl_runs(session, host="box", pid=777, since=T0,
                                        status="interrupted", reason="scheduler died",
                                        now=later)
        assert closed == 1
    with database.session() as session:
        runs = {r.id: r for r in job_runs(session)}
        assert runs[dead].status == "interrupted" and runs[dead].finished_at == later
        assert runs[dead].detail == "runner died (holder dead)"
        assert runs[mine].status == "running"  # our own rows are not stale
        crawl = session.get_one(CrawlRun, crawl_id)
        assert (crawl.status, crawl.finish_reason, crawl.finished_at) == (
            "interrupted", "scheduler died", later)
        assert session.get_one(CrawlRun, finished_id).status == "finished"


def test_closing_keeps_the_reason_the_crawl_wrote(database: Database) -> None:
    with database.session() as session, session.begin():
        source_id = ensure_source(session, "dzwww")
        crawl_id = start_run(session, source_id, T0)
        row = session.get_one(CrawlRun, crawl_id)
        row.host, row.pid, row.status, row.finish_reason = "box", 5, "interrupted", "shutdown"
        row.finished_at = T0 + timedelta(seconds=3)
        # another process's row with the same pid, from long before: untouched
        old_id = start_run(session, source_id, T0 - timedelta(days=3))
        old = session.get_one(CrawlRun, old_id)
        old.host, old.pid = "box", 5
    with database.session() as session, session.begin():
        assert close_child_crawl_runs(session, host="box", pid=5, since=T0, status="timeout",
                                      reason="time limit reached", now=T0 + TTL) == 1
    with database.session() as session:
        row = session.get_one(CrawlRun, crawl_id)
        assert row.status == "timeout"
        assert row.finish_reason == "time limit reached (crawl said: shutdown)"
        assert row.finished_at == T0 + timedelta(seconds=3)
        assert session.get_one(CrawlRun, old_id).status == "running"
