"""Helpers for the Celery executor tests: the real RabbitMQ on 127.0.0.1:5672, a config
with its own queue names per test, and ``newsmon worker`` / ``newsmon run`` processes.

The broker is required: without it the tests FAIL (``scripts/test`` starts it when it
is installed but not running). Each test uses queues named after a fresh random prefix
(``t3f9a….crawl``), deleted at the end, so parallel test runs never share messages.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kombu import Connection

from newsmon.scheduler.cluster.messages import all_queue_names
from newsmon.storage.jobruns import JobRunRecord
from tests.conftest import Newsmon, with_settings
from tests.scheduler_support import wait_until

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
WORKER_NAME = re.compile(r"newsmon worker (newsmon-(\d+)@\S+): queues")


def require_broker(url: str = BROKER_URL) -> None:
    try:
        with Connection(url, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.fail(f"RabbitMQ at {url} is required (scripts/test starts it): {exc}")


@pytest.fixture
def queue_prefix() -> Iterator[str]:
    """A queue-name prefix of this test's own; its queues are deleted afterwards."""
    require_broker()
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield prefix
    with Connection(BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        for name in all_queue_names(prefix):
            try:
                channel.queue_delete(queue=name)
            except Exception:
                channel = connection.channel()  # an error closes the channel


def celery_settings(config_toml: str, prefix: str) -> str:
    """The config with the Celery executor on this test's queues (the broker URL comes
    from NEWSMON_BROKER_URL, so a test can point a runner elsewhere)."""
    return with_settings(config_toml, 'executor = "celery"', f'queue = "{prefix}"')


@dataclass
class Proc:
    """A ``newsmon`` child process with its combined output in a file."""

    process: subprocess.Popen[bytes]
    output_file: Path

    def output(self) -> str:
        return self.output_file.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)

        def seen() -> re.Match[str] | None:
            found = regex.search(self.output())
            if found is None and self.process.poll() is not None:
                raise AssertionError(f"exited {self.process.returncode} before /{pattern}/:"
                                     f"\n{self.output()[-4000:]}")
            return found

        return wait_until(seen, timeout, f"/{pattern}/ in {self.output_file.name}")

    @property
    def worker_name(self) -> str:
        return self.wait_for(WORKER_NAME.pattern).group(1)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 90) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"{self.output_file.name} did not stop within {timeout}s:"
                                 f"\n{self.output()[-4000:]}") from None


@dataclass
class Cluster:
    """Starts workers and runners of one database and config; kills leftovers."""

    newsmon: Newsmon
    directory: Path
    broker_url: str = BROKER_URL
    started: list[Proc] = field(default_factory=list)

    def _start(self, name: str, args: list[str], broker_url: str | None = None) -> Proc:
        assert self.newsmon.config is not None
        output_file = self.directory / f"{name}.out"
        env = self.newsmon.env()
        env["NEWSMON_BROKER_URL"] = broker_url or self.broker_url
        cmd = [sys.executable, "-m", "newsmon", "--db", self.newsmon.db_url,
               "--config", str(self.newsmon.config), *args]
        with output_file.open("wb") as out:
            process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        proc = Proc(process, output_file)
        self.started.append(proc)
        return proc

    def worker(self, name: str, *options: str, lease: str = "6s") -> Proc:
        return self._start(name, ["worker", "--lease", lease, *options])

    def runner(self, name: str, *options: str, broker_url: str | None = None) -> Proc:
        log_file = self.directory / f"{name}.log"
        return self._start(name, ["run", "--lease", "4s", "--grace", "30s",
                                  "--log-file", str(log_file), *options], broker_url)

    def cleanup(self) -> None:
        for proc in self.started:
            if proc.process.poll() is None:
                proc.process.kill()
                proc.process.wait(timeout=30)


def overlapping(runs: list[JobRunRecord]) -> list[tuple[int, int]]:
    """Pairs of runs (ids) whose [start, end] intervals overlap; a run still going
    counts as going on forever."""
    spans = sorted((r.started_at, r.finished_at, r.id) for r in runs)
    pairs: list[tuple[int, int]] = []
    for index, (_start, end, run_id) in enumerate(spans):
        for later_start, _end, later_id in spans[index + 1:]:
            if end is None or later_start < end:
                pairs.append((run_id, later_id))
    return pairs


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on (bound and released: the kernel will not hand it out
    again soon)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
