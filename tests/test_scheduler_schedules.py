"""Schedules as values: cron parsing, time zones, catch-up and reconcile rules.

"now" is always an argument, so each rule is checked at chosen instants.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsmon.config import ConfigError, parse_config
from newsmon.cron import ScheduleError, cron_weekdays, parse_cron
from newsmon.scheduler.jobs import Outcome, child_argv, child_env, classify_exit
from newsmon.scheduler.schedules import (
    JobSpec,
    LastRun,
    job_specs,
    latest_fire_at_or_before,
    local_time,
    missed_slot,
    next_fire_after,
    plan_reconcile,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


@pytest.mark.parametrize(("field", "expected"), [
    ("*", "*"),
    ("0", "sun"),
    ("7", "sun"),  # cron allows 7 for Sunday too
    ("1", "mon"),  # APScheduler 3 would read 1 as Tuesday
    ("1-5", "mon,tue,wed,thu,fri"),
    ("5-7", "sun,fri,sat"),
    ("0-6", "*"),
    ("*/2", "sun,tue,thu,sat"),
    ("1-5/2", "mon,wed,fri"),
    ("sun,wed", "sun,wed"),
    ("MON-FRI", "mon,tue,wed,thu,fri"),
    ("saturday", "sat"),
])
def test_cron_weekdays_are_translated_to_names(field: str, expected: str) -> None:
    assert cron_weekdays(field) == expected


@pytest.mark.parametrize("field", ["8", "mon-", "5-1", "*/0", "funday", "1-x"])
def test_bad_weekdays_name_the_field(field: str) -> None:
    with pytest.raises(ScheduleError, match="day-of-week"):
        cron_weekdays(field)


@pytest.mark.parametrize(("expr", "now", "expected"), [
    # 07:00 in Shanghai, asked at 08:00 Shanghai on Friday 2024-05-03: next is Saturday
    ("0 7 * * *", at(2024, 5, 3, 8), at(2024, 5, 4, 7)),
    # weekdays only: Friday 08:00 -> Monday 07:00 (APScheduler's own "1-5" would be Tue-Sat)
    ("0 7 * * 1-5", at(2024, 5, 3, 8), at(2024, 5, 6, 7)),
    # Sunday as 0
    ("30 6 * * 0", at(2024, 5, 3, 8), at(2024, 5, 5, 6, 30)),
    # both day fields restricted: cron runs on either (13th OR Friday) -> Friday the 10th
    ("0 7 13 * 5", at(2024, 5, 3, 8), at(2024, 5, 10, 7)),
    # six fields: every 5 seconds
    ("*/5 * * * * *", at(2024, 5, 3, 8, 0, 2), at(2024, 5, 3, 8, 0, 5)),
])
def test_next_fire_times_in_the_schedules_zone(expr: str, now: datetime,
                                               expected: datetime) -> None:
    assert next_fire_after(parse_cron(expr, "Asia/Shanghai"), now) == expected


def test_the_zone_is_the_jobs_not_the_servers() -> None:
    now = datetime(2024, 5, 3, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai, 20:00 the day before in NY
    shanghai = next_fire_after(parse_cron("0 7 * * *", "Asia/Shanghai"), now)
    new_york = next_fire_after(parse_cron("0 7 * * *", "America/New_York"), now)
    assert shanghai == at(2024, 5, 4, 7)
    assert new_york == at(2024, 5, 3, 7, zone=NEW_YORK)
    assert shanghai is not None and shanghai.utcoffset() == timedelta(hours=8)


def test_daylight_saving_changes_keep_the_local_hour() -> None:
    # New York springs forward on 2024-03-10: 07:00 local is 12:00 UTC before, 11:00 after
    trigger = parse_cron("0 7 * * *", "America/New_York")
    before = next_fire_after(trigger, datetime(2024, 3, 9, 0, tzinfo=UTC))
    after = next_fire_after(trigger, datetime(2024, 3, 11, 0, tzinfo=UTC))
    assert before == datetime(2024, 3, 9, 12, tzinfo=UTC)
    assert after == datetime(2024, 3, 11, 11, tzinfo=UTC)


@pytest.mark.parametrize(("expr", "message"), [
    ("0 7 * *", "4 fields"),
    ("0 25 * * *", "25"),
    ("0 7 * * 9", "day-of-week"),
    ("1 2 3 4 5 6 7", "7 fields"),
])
def test_bad_schedules_say_what_is_wrong(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_cron(expr, "Asia/Shanghai")


def test_next_fire_after_is_strictly_after() -> None:
    trigger = parse_cron("0 7 * * *", "Asia/Shanghai")
    assert next_fire_after(trigger, at(2024, 5, 3, 7)) == at(2024, 5, 4, 7)


@pytest.mark.parametrize(("expr", "now", "expected"), [
    ("*/5 * * * * *", at(2024, 5, 3, 8, 0, 7), at(2024, 5, 3, 8, 0, 5)),
    ("*/5 * * * * *", at(2024, 5, 3, 8, 0, 5), at(2024, 5, 3, 8, 0, 5)),
    ("0 7 * * *", at(2024, 5, 3, 9, 30), at(2024, 5, 3, 7)),
    ("* 7 * * *", at(2024, 5, 3, 9), at(2024, 5, 3, 7, 59)),  # a burst, long ago
    ("0 7 * * *", at(2024, 5, 3, 6), None),  # yesterday's 07:00 is beyond the horizon
])
def test_latest_fire_at_or_before(expr: str, now: datetime, expected: datetime | None) -> None:
    trigger = parse_cron(expr, "Asia/Shanghai")
    assert latest_fire_at_or_before(trigger, now, timedelta(hours=6)) == expected


DAILY = parse_cron("0 7 * * *", "Asia/Shanghai")


def test_a_job_that_never_ran_has_missed_nothing() -> None:
    assert missed_slot(DAILY, None, at(2024, 5, 3, 12)) is None


def test_a_job_that_ran_at_its_last_slot_has_missed_nothing() -> None:
    last = LastRun(at(2024, 5, 3, 7, 0, 1), "ok")
    assert missed_slot(DAILY, last, at(2024, 5, 3, 23)) is None


def test_three_days_down_is_one_catch_up_for_the_first_missed_slot() -> None:
    last = LastRun(at(2024, 5, 1, 7, 0, 1), "ok")
    assert missed_slot(DAILY, last, at(2024, 5, 4, 12)) == at(2024, 5, 2, 7)


def test_failed_runs_count_as_runs_but_interrupted_ones_are_owed() -> None:
    now = at(2024, 5, 3, 7, 30)
    for status in ("errors", "failed", "crashed", "timeout"):
        assert missed_slot(DAILY, LastRun(at(2024, 5, 3, 7), status), now) is None, status
    owed = LastRun(at(2024, 5, 3, 7, 0, 1), "interrupted", scheduled_for=at(2024, 5, 3, 7))
    assert missed_slot(DAILY, owed, now) == at(2024, 5, 3, 7)
    assert missed_slot(DAILY, LastRun(at(2024, 5, 3, 7), "missed"), now) == at(2024, 5, 3, 7)


CONFIG = """
[settings]
timezone = "Asia/Shanghai"

[[sources]]
name = "dzwww"
lists = ["http://127.0.0.1:1/dzwww/"]
schedule = "0 7 * * *"

[[sources]]
name = "wenweipo"
lists = ["http://127.0.0.1:1/wenweipo/"]
timezone = "Asia/Hong_Kong"
schedule = "*/10 * * * * *"

[[sources]]
name = "unscheduled"
lists = ["http://127.0.0.1:1/x/"]

[[subscriptions]]
name = "morning"
schedule = "30 7 * * 1-5"
timezone = "Europe/Berlin"
"""


def specs_of(text: str) -> list[JobSpec]:
    config = parse_config(text, Path("sites.toml"))
    return job_specs(config, crawl_timeout=HOUR, digest_timeout=timedelta(minutes=5))


def test_the_config_gives_one_job_per_scheduled_source_and_subscription() -> None:
    specs = specs_of(CONFIG)
    assert [(s.job_id, s.schedule, s.timezone) for s in specs] == [
        ("crawl:dzwww", "0 7 * * *", "Asia/Shanghai"),
        ("crawl:wenweipo", "*/10 * * * * *", "Asia/Hong_Kong"),
        ("digest:morning", "30 7 * * 1-5", "Europe/Berlin"),
    ]
    assert specs[0].timeout == HOUR and specs[2].timeout == timedelta(minutes=5)


def test_a_bad_schedule_names_the_file_line_and_entry() -> None:
    bad = CONFIG.replace('schedule = "0 7 * * *"', 'schedule = "0 7 * * 8"')
    # refused when the config is read, so every command reports it, not only `run`
    with pytest.raises(ConfigError, match=r"sites\.toml:8: source 'dzwww': .*day-of-week"):
        specs_of(bad)


def test_reconcile_adds_replaces_removes_and_keeps() -> None:
    old = {s.job_id: s for s in specs_of(CONFIG)}
    edited = CONFIG.replace('schedule = "0 7 * * *"', 'schedule = "0 8 * * *"')
    edited = edited.replace('name = "unscheduled"\n',
                            'name = "unscheduled"\nschedule = "0 9 * * *"\n')
    edited = edited.replace('schedule = "30 7 * * 1-5"\n', "")
    plan = plan_reconcile(old, specs_of(edited))
    assert [s.job_id for s in plan.add] == ["crawl:unscheduled"]
    assert [s.job_id for s in plan.replace] == ["crawl:dzwww"]
    assert plan.remove == ("digest:morning",)
    assert plan.keep == ("crawl:wenweipo",)


def test_a_changed_time_limit_or_zone_replaces_the_job() -> None:
    [spec] = specs_of(CONFIG)[:1]
    current = {spec.job_id: spec}
    assert plan_reconcile(current, [replace(spec, timeout=2 * HOUR)]).replace
    assert plan_reconcile(current, [replace(spec, timezone="UTC")]).replace
    assert plan_reconcile(current, [spec]).keep == (spec.job_id,)


def test_local_time_shows_the_zone() -> None:
    moment = datetime(2024, 5, 3, 23, 0, tzinfo=UTC)
    assert local_time(moment, "Asia/Shanghai") == "2024-05-04 07:00:00 CST (Asia/Shanghai)"
    assert local_time(None, "Asia/Shanghai") == "never"


@pytest.mark.parametrize(("code", "timed_out", "interrupted", "outcome"), [
    (0, False, False, Outcome.OK),
    (1, False, False, Outcome.ERRORS),  # ran; a source (or a send) failed
    (2, False, False, Outcome.FAILED),
    (3, False, False, Outcome.FAILED),
    (-9, False, False, Outcome.CRASHED),
    (-15, True, False, Outcome.TIMEOUT),
    (143, False, True, Outcome.INTERRUPTED),  # a crawl exits 143 after a graceful SIGTERM
    (143, True, False, Outcome.TIMEOUT),  # ... also when the time limit sent it
    (143, False, False, Outcome.INTERRUPTED),  # stopped by someone else's SIGTERM
    (130, False, False, Outcome.INTERRUPTED),  # Ctrl-C
    (-9, True, True, Outcome.INTERRUPTED),
])
def test_exit_statuses_are_classified(code: int, timed_out: bool, interrupted: bool,
                                      outcome: Outcome) -> None:
    assert classify_exit(code, timed_out=timed_out, interrupted=interrupted) is outcome


def test_an_unhandled_exception_is_a_failure_not_a_run_with_errors() -> None:
    assert classify_exit(1, timed_out=False, interrupted=False, traceback=True) is (
        Outcome.FAILED)


def test_the_child_command_is_the_users_command() -> None:
    crawl, _, digest = specs_of(CONFIG)
    result = Path("/run/job/result.json")
    assert child_argv(crawl, "sites.toml", result, python="py") == [
        "py", "-m", "newsmon", "--config", "sites.toml",
        "crawl", "--source", "dzwww", "--no-progress", "--result-file", str(result)]
    assert child_argv(digest, "sites.toml", result, python="py")[-5:] == [
        "digest", "--subscription", "morning", "--result-file", str(result)]


def test_the_database_url_reaches_the_child_outside_its_command_line() -> None:
    url = "postgresql://newsmon:s3cret@db.example/news"
    env = child_env(url, {"PATH": "/bin", "NEWSMON_DB": "sqlite:///other.db"})
    assert env["NEWSMON_DB"] == url and env["PATH"] == "/bin"
    assert env["PYTHONIOENCODING"] == "utf-8"
    crawl = specs_of(CONFIG)[0]
    assert not any("s3cret" in arg for arg in child_argv(crawl, "sites.toml", Path("r")))
