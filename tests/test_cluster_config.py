"""The Celery executor's settings and messages, without a broker: what is refused and
how (one line naming the file and line), and that a message is plain checked JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.config import ConfigError, parse_config, resolve_broker_url
from newsmon.scheduler.cluster.dispatch import redacted
from newsmon.scheduler.cluster.messages import JobRequest, all_queue_names
from newsmon.scheduler.schedules import JobKind, JobSpec
from tests.conftest import Newsmon


def settings(*lines: str) -> str:
    return "[settings]\n" + "".join(f"{line}\n" for line in lines)


@pytest.mark.parametrize(("line", "message"), [
    ('executor = "threads"',
     "setting 'executor' must be one of 'local' or 'celery', got 'threads'"),
    ('broker_url = "http://127.0.0.1:5672"', "setting 'broker_url' must be amqp://"),
    ('queue = "no spaces"', "setting 'queue' must be 1-100 letters"),
])
def test_bad_executor_settings_are_refused_with_their_line(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(settings('timezone = "Asia/Shanghai"', line), Path("c.toml"))
    assert str(raised.value).startswith("c.toml:3: ")
    assert message in str(raised.value)


def test_the_environment_broker_wins_over_the_file() -> None:
    config = parse_config(settings('executor = "celery"',
                                   'broker_url = "redis://127.0.0.1:6379/0"'), Path("c.toml"))
    assert resolve_broker_url(config.settings, {}) == "redis://127.0.0.1:6379/0"
    assert resolve_broker_url(config.settings, {"NEWSMON_BROKER_URL": "amqp://h//"}) == \
        "amqp://h//"
    assert config.settings.queue == "newsmon"
    assert all_queue_names("newsmon") == ["newsmon.crawl", "newsmon.digest", "newsmon.revisit"]


def test_run_and_worker_without_a_broker_say_so(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(settings('executor = "celery"') + '[[sources]]\nname = "a"\n'
                      'lists = ["http://127.0.0.1:9/"]\nschedule = "0 7 * * *"\n',
                      encoding="utf-8")
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")
    for command in ("run", "worker"):
        result = newsmon(command, check=False)
        assert result.returncode == 2, result.stderr
        assert "broker_url" in result.stderr and "NEWSMON_BROKER_URL" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_job_message_is_checked_json() -> None:
    spec = JobSpec(JobKind.CRAWL, "dzwww", "0 7 * * *", "Asia/Shanghai", timedelta(hours=1))
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    request = JobRequest.for_spec(spec, scheduled_for=now, catch_up=True, sent_at=now,
                                  runner="host:1:abc")
    again = JobRequest.from_json(request.to_json())
    assert again == request and again.job_id == "crawl:dzwww"
    assert again.scheduled_time() == now and not again.insist
    assert again.insisting().insist
    for bad in ([1], {**request.to_json(), "kind": "rm -rf"},
                {**request.to_json(), "extra": 1}, {**request.to_json(), "timeout_seconds": 0}):
        with pytest.raises(ValueError, match="job message"):
            JobRequest.from_json(bad)


def test_logs_show_a_broker_url_without_its_password() -> None:
    assert redacted("amqp://news:s3cret@broker:5672//") == "amqp://news@broker:5672//"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
