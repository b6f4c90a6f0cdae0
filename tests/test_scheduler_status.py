"""``newsmon status`` shows each scheduled job's next run and last result, and the
runner holding the lease (the real command, on a real SQLite file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from newsmon.samplesites import SampleSites
from newsmon.scheduler.lease import RunnerLease
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import finish_job_run, start_job_run
from tests.conftest import Newsmon
from tests.scheduler_support import scheduled_config


def test_status_shows_next_runs_in_the_jobs_zone_last_results_and_the_runner(
        sites: SampleSites, tmp_path: Path, sqlite_url: str) -> None:
    # dzwww's zone is Asia/Shanghai, wenweipo's Asia/Hong_Kong (the sample config's)
    config = scheduled_config(sites, tmp_path / "sites.toml",
                              {"dzwww": "0 7 * * *", "wenweipo": "30 6 * * 1-5"},
                              digest="0 8 * * *")
    now = datetime.now(UTC)
    database = Database(sqlite_url)
    with database.session() as session, session.begin():
        run = start_job_run(session, "crawl:dzwww", scheduled_for=now - timedelta(hours=1),
                            started_at=now - timedelta(hours=1), holder="h", host="box")
        finish_job_run(session, run, finished_at=now - timedelta(minutes=59), status="timeout",
                       exit_code=-15, detail="killed by SIGTERM; 3 pages, 1 new articles, "
                       "0 errors; time limit of 1:00:00 reached; ended by the scheduler")
    RunnerLease(database, "box:42:abcdef", ttl=timedelta(minutes=5)).try_acquire(now)
    database.dispose()

    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    report = json.loads(newsmon("status", "--json", check=False).stdout)
    jobs = {job["job"]: job for job in report["schedules"]}
    assert set(jobs) == {"crawl:dzwww", "crawl:wenweipo", "digest:daily"}

    dzwww = jobs["crawl:dzwww"]
    next_run = datetime.fromisoformat(dzwww["next_run"])
    local = next_run.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.hour, local.minute) == (7, 0) and now < next_run <= now + timedelta(days=1)
    assert dzwww["next_run_local"].endswith("CST (Asia/Shanghai)")
    assert dzwww["last_run"]["status"] == "timeout"
    assert "time limit" in dzwww["last_run"]["detail"]

    wenweipo = jobs["crawl:wenweipo"]
    hong_kong = datetime.fromisoformat(wenweipo["next_run"]).astimezone(
        ZoneInfo("Asia/Hong_Kong"))
    assert (hong_kong.hour, hong_kong.minute) == (6, 30) and hong_kong.isoweekday() <= 5
    assert wenweipo["next_run_local"].endswith("HKT (Asia/Hong_Kong)")
    assert wenweipo["last_run"] is None

    [runner] = report["runner"]
    assert runner["holder"] == "box:42:abcdef" and runner["live"] is True

    table = newsmon("status", check=False).stdout
    assert "== Schedules" in table and "timeout — " in table
    assert "box:42:abcdef" in table and "running; lease renewed" in table
