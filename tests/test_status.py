"""``newsmon status``: the flags (pure, "now" passed in) and the command on real crawls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.samplesites import SampleSites
from newsmon.status import RunRecord, source_status
from tests.conftest import Newsmon
from tests.local_http import refused_port

NOW = datetime(2024, 5, 10, 8, 0, tzinfo=UTC)


def run(hours_ago: float, *, new: int = 0, pages: int = 10, status: str = "finished",
        reason: str = "finished", errors: dict[str, int] | None = None) -> RunRecord:
    started = NOW - timedelta(hours=hours_ago)
    finished = None if status == "running" else started + timedelta(minutes=2)
    return RunRecord("dzwww", started, finished, status, reason, pages, new, 0, 0, 0, 0,
                     errors or {})


def daily(days: int, new_every: int = 1) -> list[RunRecord]:
    """``days`` daily runs, newest first, finding something every ``new_every`` days."""
    return [run(24 * d + 1, new=3 if d % new_every == 0 else 0) for d in range(days)]


@pytest.mark.parametrize(("runs", "flags"), [
    ([], ("never run",)),
    (daily(5), ()),
    # stopped on purpose (Ctrl-C, the service's SIGTERM): shown, but not a failure
    ([run(1, status="interrupted", reason="shutdown"), *daily(4)], ("interrupted",)),
    ([run(1, status="crashed", reason="shutdown"), *daily(4)], ("failed",)),
    ([run(1, status="timeout", reason="shutdown"), *daily(4)], ("failed",)),
    ([run(1, pages=0, errors={"connection_refused": 1}),
      run(25, pages=0, errors={"connection_refused": 1}), *daily(3)],
     ("failed 2 runs in a row",)),
    ([run(1, new=2, errors={"http_404": 1}), *daily(3)], ("errors",)),
    # found something every day until four days ago: quiet for longer than usual
    ([run(1), run(25), run(49), run(73), *[run(24 * d + 1, new=4) for d in range(4, 9)]],
     ("quiet",)),
    # a weekly source that found something three days ago is not quiet
    ([run(24 * d + 1, new=5 if d % 7 == 3 else 0) for d in range(20)], ()),
    # no history of finds at all: three empty runs in a row are worth a look
    ([run(1), run(2), run(3)], ("quiet",)),
    ([run(1), run(2)], ()),
    # a crawl still running neither fails nor counts
    ([run(0.1, status="running"), *daily(3)], ()),
    # ... unless it has been "running" for a day: its process died without closing it
    ([run(24, status="running"), *[run(24 * d + 1, new=2) for d in range(2, 5)]], ("stale",)),
])
def test_flags(runs: list[RunRecord], flags: tuple[str, ...]) -> None:
    assert source_status("dzwww", runs, NOW).flags == flags


def test_last_new_at_and_duration() -> None:
    status = source_status("dzwww", [run(1), run(25, new=3), run(49, new=1)], NOW)
    assert status.last_new_at == NOW - timedelta(hours=25)
    assert status.last is not None and status.last.duration == timedelta(minutes=2)


def test_status_after_real_crawls(newsmon: Newsmon, sites: SampleSites) -> None:
    before = json.loads(newsmon("status", "--json").stdout)
    assert [s["flags"] for s in before["sources"]] == [["never run"]] * 4
    newsmon("crawl", "--source", "dzwww")
    sites.set_day(2)
    newsmon("crawl", "--source", "dzwww")
    report = json.loads(newsmon("status", "--json").stdout)
    dzwww = next(s for s in report["sources"] if s["source"] == "dzwww")
    last = dzwww["last_run"]
    assert last["status"] == "finished" and last["finish_reason"] == "finished"
    assert last["new"] == 1 and last["skipped_known"] >= 7 and last["errors"] == {}
    assert last["pages"] >= 2 and last["duration_seconds"] >= 0
    assert dzwww["runs"] == 2 and dzwww["flags"] == []
    table = newsmon("status").stdout
    assert "== Crawls" in table and "finished" in table and "never run" in table


def test_status_flags_a_failed_source_and_exits_1(sites: SampleSites, tmp_path: Path,
                                                  sqlite_url: str) -> None:
    with refused_port() as port:
        dead = f"http://127.0.0.1:{port}/news/list.html"
        config = tmp_path / "sites.toml"
        config.write_text(sites.config_toml()
                          + f'\n[[sources]]\nname = "gone"\nlists = ["{dead}"]\n',
                          encoding="utf-8")
        newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
        newsmon("crawl", "--source", "gone", check=False)
    result = newsmon("status", "--json", check=False)
    assert result.returncode == 1
    gone = next(s for s in json.loads(result.stdout)["sources"] if s["source"] == "gone")
    assert gone["flags"] == ["failed"]
    # Its robots.txt is asked for first and cannot be reached (connection refused):
    # RFC 9309 says fetch nothing from that host this run, so that is the one error.
    assert gone["last_run"]["errors"] == {"robots_unreachable": 1}
