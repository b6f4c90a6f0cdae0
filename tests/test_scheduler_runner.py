"""The job runner with real child processes and a real SQLite ledger.

The children are small shell scripts standing in for ``python -m newsmon …`` (the
runner is given them as its interpreter), so each outcome — a clean run, an
unhandled exception, a hang past the time limit, a stop — happens for real and fast.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from newsmon.jobresult import (
    CrawlResult,
    DigestResult,
    DigestResults,
    JobReport,
    ResultFileError,
    read_result,
    write_result,
)
from newsmon.scheduler.jobs import JobRunner, Outcome
from newsmon.scheduler.schedules import JobKind, JobSpec
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import job_runs
from newsmon.storage.models import CrawlRun
from tests.conftest import Newsmon

CRAWL = JobSpec(JobKind.CRAWL, "dzwww", "* * * * * *", "Asia/Shanghai", timedelta(seconds=30))
TOTALS = CrawlResult(pages=14, new_articles=7, errors=0, skipped_known=3, new_matches=1,
                     flagged=1)
SUMMARY = ("14 pages, 7 new articles, 0 errors, 3 known links skipped; "
           "1 new topic matches (1 flagged for the digest)")
# The fake child writes its result where the last argument (--result-file PATH) says.
WRITE_RESULT = 'for last in "$@"; do :; done\ncp {result} "$last"'


def fake_newsmon(tmp_path: Path, body: str) -> str:
    """An executable that stands in for the Python interpreter running newsmon."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def database(sqlite_url: str) -> Database:
    db = Database(sqlite_url)
    db.ensure_schema()
    return db


def runner(database: Database, python: str, may_start: bool = True) -> JobRunner:
    return JobRunner(database, database.url, "sites.toml", holder="me",
                     may_start=lambda _now: may_start, python=python,
                     kill_grace=timedelta(seconds=2))


def result_file(tmp_path: Path, report: JobReport) -> Path:
    """A result as a ``newsmon`` child writes it, for a fake child to copy."""
    path = tmp_path / "child-result.json"
    write_result(path, report)
    return path


def test_a_clean_run_is_recorded_with_its_summary(database: Database, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    write = WRITE_RESULT.format(result=result_file(tmp_path, TOTALS))
    python = fake_newsmon(tmp_path, f'echo "$@" >&2\n{write}')
    scheduled = datetime(2024, 5, 1, 7, tzinfo=UTC)
    with caplog.at_level("INFO", logger="newsmon.run"):
        result = runner(database, python).run(CRAWL, scheduled_for=scheduled)
    assert result is not None and result.outcome is Outcome.OK and result.summary == SUMMARY
    with database.session() as session:
        [run] = job_runs(session)
    assert (run.job_id, run.status, run.exit_code, run.holder) == ("crawl:dzwww", "ok", 0, "me")
    assert run.scheduled_for == scheduled and run.pid is not None
    assert run.detail == f"exit 0; {SUMMARY}"
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("job crawl:dzwww started: run ") for m in messages)
    assert any(m.startswith("job crawl:dzwww ended: ok (exit 0)") for m in messages)
    # the child got the user's command line, and no database URL on it
    assert any(m.startswith("crawl:dzwww | -m newsmon --config sites.toml crawl --source "
                            "dzwww --no-progress --result-file ") for m in messages)


def test_the_result_comes_from_the_result_file_whatever_the_child_prints(
        database: Database, tmp_path: Path) -> None:
    """The printed wording is for people: a child that words its summary differently
    (or prints an old-style summary with other numbers) changes nothing recorded."""
    digest = JobSpec(JobKind.DIGEST, "daily", "* * * * * *", "UTC", timedelta(seconds=30))
    sent = DigestResults((DigestResult("daily", "sent", 2, "stdout", "text"),))
    write = WRITE_RESULT.format(result=result_file(tmp_path, sent))
    python = fake_newsmon(tmp_path, 'echo "Digest for daily went out: two stories"\n'
                          'echo "99 pages, 99 new articles, 99 errors; 0 new topic matches"\n'
                          f"{write}")
    result = runner(database, python).run(digest)
    assert result is not None and result.outcome is Outcome.OK
    assert result.report == sent
    assert result.summary == "digest daily: sent 2 matches to stdout (text)"
    with database.session() as session:
        [run] = job_runs(session)
    assert run.detail == "exit 0; digest daily: sent 2 matches to stdout (text)"


def test_a_child_that_writes_no_result_has_none(database: Database, tmp_path: Path) -> None:
    python = fake_newsmon(tmp_path, f'echo "{SUMMARY}"')  # the words alone are not read
    result = runner(database, python).run(CRAWL)
    assert result is not None and result.outcome is Outcome.OK
    assert result.report is None and result.summary == ""


def test_an_unhandled_exception_is_a_failure_named_in_the_ledger(
        database: Database, tmp_path: Path) -> None:
    python = fake_newsmon(tmp_path, 'echo "Traceback (most recent call last):" >&2\n'
                          'echo "  File \\"x.py\\", line 1, in <module>" >&2\n'
                          'echo "ValueError: boom" >&2\nexit 1')
    result = runner(database, python).run(CRAWL)
    assert result is not None and result.outcome is Outcome.FAILED
    with database.session() as session:
        [run] = job_runs(session)
    assert run.status == "failed"
    assert (run.detail or "").startswith("exit 1; ValueError: boom; the crawl process ended")


def test_a_run_past_its_time_limit_is_ended_and_the_next_goes_on(
        database: Database, tmp_path: Path) -> None:
    hang = runner(database, fake_newsmon(tmp_path, "exec sleep 60"))
    quick = JobSpec(JobKind.DIGEST, "daily", "* * * * * *", "UTC", timedelta(seconds=1))
    result = hang.run(quick)
    assert result is not None and result.outcome is Outcome.TIMEOUT
    assert result.returncode < 0  # ended by a signal
    again = hang.run(quick)
    assert again is not None and again.outcome is Outcome.TIMEOUT
    with database.session() as session:
        assert [r.status for r in job_runs(session)] == ["timeout", "timeout"]


def test_a_stop_interrupts_a_running_job(database: Database, tmp_path: Path) -> None:
    jobs = runner(database, fake_newsmon(tmp_path, "exec sleep 60"))
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(jobs.run(CRAWL)))
    thread.start()
    deadline = time.monotonic() + 30
    while not jobs.active() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.active() == ["crawl:dzwww"]
    jobs.stopping.set()
    jobs.interrupt_all()
    thread.join(timeout=30)
    [result] = results
    assert getattr(result, "outcome", None) is Outcome.INTERRUPTED
    assert jobs.wait_idle(timedelta(seconds=5)) and jobs.in_flight() == 0
    assert jobs.run(CRAWL) is None  # stopping: nothing new starts


def test_without_the_lease_nothing_starts_or_is_recorded(database: Database,
                                                         tmp_path: Path) -> None:
    jobs = runner(database, fake_newsmon(tmp_path, "exit 0"), may_start=False)
    assert jobs.run(CRAWL) is None
    with database.session() as session:
        assert job_runs(session) == []


def test_a_catch_up_run_is_marked_and_carries_the_missed_slot(database: Database,
                                                              tmp_path: Path) -> None:
    jobs = runner(database, fake_newsmon(tmp_path, "exit 0"))
    missed = datetime(2024, 5, 1, 7, tzinfo=UTC)
    jobs.expect_catch_up("crawl:dzwww", missed)
    jobs.run(CRAWL, scheduled_for=datetime(2024, 5, 3, 7, tzinfo=UTC))
    jobs.run(CRAWL, scheduled_for=datetime(2024, 5, 4, 7, tzinfo=UTC))
    with database.session() as session:
        first, second = job_runs(session)
    assert (first.catch_up, first.scheduled_for) == (True, missed)
    assert (second.catch_up, second.scheduled_for) == (False, datetime(2024, 5, 4, 7,
                                                                       tzinfo=UTC))


def test_the_real_crawl_and_digest_commands_write_their_result(newsmon: Newsmon,
                                                               tmp_path: Path) -> None:
    crawled = tmp_path / "crawl.json"
    out = newsmon("crawl", "--source", "dzwww", "--result-file", str(crawled)).stdout
    report = read_result(crawled)
    assert isinstance(report, CrawlResult)
    database = Database(newsmon.db_url)
    with database.session() as session:
        [run] = session.scalars(select(CrawlRun)).all()
    database.dispose()
    assert (report.pages, report.new_articles, report.errors) == (
        run.pages, run.new_articles, 0)
    assert report.new_articles > 0 and report.new_matches == 0
    assert report.summary() in out  # people read the same totals
    sent = tmp_path / "digest.json"
    newsmon("digest", "--result-file", str(sent))
    assert read_result(sent) == DigestResults(
        (DigestResult("default", "sent", 0, "stdout", "text"),))


@pytest.mark.parametrize(("text", "said"), [
    ('{"version": 1, "report": {"kind": "crawl", "pages": "x"}}', "crawl.pages: "),
    ('{"version": 1, "report": {"kind": "shout"}}', "does not match any of the expected"),
    ('{"version": 0, "report": {}}', "expected a JSON object of version 1"),
    ("{half", "Expecting property name"),
])
def test_a_result_file_not_written_by_newsmon_is_one_named_error(tmp_path: Path, text: str,
                                                                  said: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ResultFileError) as error:
        read_result(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not a newsmon result: ") and said in message
    assert "\n" not in message
