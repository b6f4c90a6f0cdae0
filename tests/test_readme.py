"""Every ``newsmon …`` example in the README runs as written (as sqlite-utils checks its
docs): each line of a fenced code block that starts with ``newsmon`` is run by bash,
in README order, in a directory holding ``sites.toml`` for the sample sites, with
``NEWSMON_DB``/``NEWSMON_CONFIG`` pointing there. It must exit 0, or the code its
comment names (``# exits 1``).

Only what cannot exist here is substituted: the example sites' URLs become pages of
the local sample sites (:data:`LOCAL_PAGES`). ``newsmon run`` serves until stopped,
so a serving example is stopped with SIGTERM once it has started and must exit 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.samplesites import SampleSites
from tests.conftest import with_settings

README = Path(__file__).resolve().parents[1] / "README.md"
EXPECTED_EXIT = re.compile(r"#.*\bexits? (\d+)\b")
# README URL -> path on the sample sites standing in for it
LOCAL_PAGES = {
    "https://www.dzwww.com/xinwen/index.htm": "/dzwww/qingdao/index.htm",
    "https://news.example.cn/rss.xml": "/qingdaonews/rss/roll.xml",
    "https://www.example.cn/news/1.html": None,  # an article page: see _substitutions
}
# A schedule and a subscription, so `run` has jobs and `digest -s desk` a ledger.
EXTRA_CONFIG = """
[[subscriptions]]
name = "desk"
channel = "stdout"
format = "text"
schedule = "0 8 * * *"
"""


def readme_examples(text: str) -> list[tuple[int, str]]:
    """``(line number, command)`` for each ``newsmon …`` line in a fenced code block
    (TOML blocks hold config, not commands)."""
    examples: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        if fence is not None and fence != "toml" and line.startswith("newsmon "):
            examples.append((number, line))
    return examples


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command)
    return int(found.group(1)) if found else 0


def serves(command: str) -> bool:
    """``newsmon … run`` without ``--dry-run`` runs until it is stopped."""
    words = command.split("#", 1)[0].split()
    return "run" in words and "--dry-run" not in words


@pytest.fixture
def workdir(sites: SampleSites, tmp_path: Path
            ) -> Iterator[tuple[Path, dict[str, str], dict[str, str]]]:
    """The directory the examples run in, their environment and the URL substitutions."""
    config = tmp_path / "sites.toml"
    config.write_text(with_settings(sites.config_toml(), 'backfill_window = "off"')
                      + EXTRA_CONFIG, encoding="utf-8")
    article = sites.articles("dzwww")[0]
    with urllib.request.urlopen(f"{sites.base_url}{article.path}") as page:
        (tmp_path / "page.html").write_bytes(page.read())
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env.update(PYTHONIOENCODING="utf-8", NEWSMON_DB=f"sqlite:///{tmp_path / 'news.db'}",
               NEWSMON_CONFIG=str(config), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    substitutions = {url: f"{sites.base_url}{path or article.path}"
                     for url, path in LOCAL_PAGES.items()}
    yield tmp_path, env, substitutions


def _localised(command: str, substitutions: dict[str, str]) -> str:
    for url, local in substitutions.items():
        command = command.replace(url, local)
    return command


def _run(command: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    if not serves(command):
        done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        return done.returncode, done.stderr[-2000:]
    service = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert service.stderr is not None
    seen = []
    try:
        for line in service.stderr:  # wait until it serves, then stop it as a service manager
            seen.append(line)
            if "newsmon run starting" in line:
                service.send_signal(signal.SIGTERM)
                break
        rest = service.communicate(timeout=120)[1]
    finally:
        service.kill()
    return service.returncode, ("".join(seen) + (rest or ""))[-2000:]


def test_the_readme_has_command_examples_to_check() -> None:
    examples = readme_examples(README.read_text(encoding="utf-8"))
    assert len(examples) >= 30
    assert any(serves(command) for _, command in examples)


def test_every_readme_example_runs_as_written(
        workdir: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    cwd, env, substitutions = workdir
    failures = []
    for number, command in readme_examples(README.read_text(encoding="utf-8")):
        code, stderr = _run(_localised(command, substitutions), cwd, env)
        if code != expected_exit(command):
            failures.append(f"README.md:{number}: {command}\n  exit {code}, expected "
                            f"{expected_exit(command)}\n  {stderr.strip()}")
    assert failures == [], "\n".join(failures)
