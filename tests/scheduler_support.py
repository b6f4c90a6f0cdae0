"""Helpers for the scheduler service tests: a real ``newsmon run`` child process,
configs with second-level schedules, and polling the database with a deadline.

Nothing here sleeps for a fixed time to "let things happen": every wait polls for an
observable event (a ledger row, a log line) and fails with a message at a generous
deadline.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from newsmon.samplesites import SampleSites
from newsmon.storage.engine import Database
from newsmon.storage.jobruns import JobRunRecord, job_runs
from newsmon.storage.models import Article, CrawlRun, Match
from tests.conftest import Newsmon, with_settings

T = TypeVar("T")

POLL_SECONDS = 0.25
HOLDER = re.compile(r"newsmon run starting as (\S+) ")


def wait_until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_SECONDS)


def scheduled_config(sites: SampleSites, path: Path, crawls: dict[str, str], *,
                     digest: str | None = None, hold: Sequence[str] = ()) -> Path:
    """The sample sites' config with ``schedule`` on the sources in ``crawls`` and,
    with ``digest``, a stdout subscription ``daily`` on that schedule.

    The sources in ``hold`` also list the broken site's slow page (no answer for a
    minute), so their crawls store the articles quickly and then stay running until
    ended: a crawl to interrupt or to time out.
    """
    text = with_settings(sites.config_toml(), 'backfill_window = "off"')
    for name, cron in crawls.items():
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\nschedule = "{cron}"\n', 1)
    slow_page = sites.url("/broken/slow.html?delay=60")
    for name in hold:
        start = text.index(f'name = "{name}"\n')
        at = text.index("lists = [", start) + len("lists = [")
        text = text[:at] + f'"{slow_page}", ' + text[at:]
    if digest is not None:
        text += ('\n[[subscriptions]]\nname = "daily"\nchannel = "stdout"\nformat = "text"\n'
                 f'schedule = "{digest}"\n')
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class ServiceProcess:
    """A real ``newsmon run`` in a child process, logging to its own file."""

    process: subprocess.Popen[bytes]
    log_file: Path
    output_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""

    def output(self) -> str:
        return self.output_file.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)

        def logged() -> re.Match[str] | None:
            found = regex.search(self.log())
            if found is None:
                self._fail_if_exited(pattern)
            return found

        return wait_until(logged, timeout, f"log line /{pattern}/")

    def _fail_if_exited(self, pattern: str) -> None:
        if self.process.poll() is not None and not re.search(pattern, self.log()):
            raise AssertionError(f"newsmon run exited {self.process.returncode} before "
                                 f"/{pattern}/ was logged:\n{self.output()}")

    @property
    def holder(self) -> str:
        return self.wait_for_log(HOLDER.pattern).group(1)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 90) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"newsmon run did not stop within {timeout}s:\n"
                                 f"{self.output()}") from None

    def kill_hard(self) -> None:
        """``kill -9``: no handler runs, no lease is released, nothing is recorded."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class ServiceLauncher:
    """Starts ``newsmon run`` processes and kills any a test left running."""

    newsmon: Newsmon
    directory: Path
    started: list[ServiceProcess] = field(default_factory=list)

    def start(self, *options: str, name: str = "run", lease: str = "4s",
              grace: str = "30s") -> ServiceProcess:
        assert self.newsmon.config is not None
        log_file = self.directory / f"{name}.log"
        output_file = self.directory / f"{name}.out"
        cmd = [sys.executable, "-m", "newsmon", "--db", self.newsmon.db_url,
               "--config", str(self.newsmon.config), "run", "--lease", lease,
               "--grace", grace, "--log-file", str(log_file), *options]
        with output_file.open("wb") as out:
            process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                       env=self.newsmon.env())
        service = ServiceProcess(process, log_file, output_file)
        self.started.append(service)
        return service

    def cleanup(self) -> None:
        for service in self.started:
            if service.process.poll() is None:
                service.process.kill()
                service.process.wait(timeout=30)


@pytest.fixture
def launcher(tmp_path: Path, sqlite_url: str) -> Iterator[ServiceLauncher]:
    newsmon = Newsmon(sqlite_url, None, home=tmp_path / "home")
    launcher = ServiceLauncher(newsmon, tmp_path)
    yield launcher
    launcher.cleanup()


def ledger(db_url: str, job_id: str | None = None) -> list[JobRunRecord]:
    database = Database(db_url)
    try:
        with database.session() as session:
            return job_runs(session, job_id)
    finally:
        database.dispose()


def ended(runs: list[JobRunRecord], status: str = "ok") -> list[JobRunRecord]:
    return [r for r in runs if r.status == status and r.finished_at is not None]


def crawl_runs(db_url: str) -> list[CrawlRun]:
    database = Database(db_url)
    try:
        with database.session() as session:
            return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    finally:
        database.dispose()


def articles(db_url: str) -> list[Article]:
    database = Database(db_url)
    try:
        with database.session() as session:
            return list(session.scalars(select(Article).order_by(Article.id)))
    finally:
        database.dispose()


def matched_article_ids(db_url: str) -> list[int]:
    database = Database(db_url)
    try:
        with database.session() as session:
            return list(session.scalars(select(Match.article_id).order_by(Match.article_id)))
    finally:
        database.dispose()


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped yet does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def digest_lines(log: str, subscription: str = "daily") -> list[str]:
    """What the digest jobs printed, as copied into the service log."""
    marker = f" digest:{subscription} | "
    return [line.split(marker, 1)[1] for line in log.splitlines() if marker in line]
