"""Numeric config settings outside NUMBER_RANGES are refused at load, one line each.

A crawl with ``concurrency_per_domain = 0`` used to hang forever (ignoring SIGTERM);
``max_response_bytes = 0`` turned the size cap off; a negative timeout failed every
request. Now the config file is refused first, naming the key's line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmon.cli import cli
from newsmon.cli.exitcodes import EXIT_USAGE
from newsmon.config import NUMBER_RANGES, load_config
from tests.conftest import Newsmon, with_settings

SOURCE = """\
[settings]
timezone = "UTC"

[[sources]]
name = "site"
lists = ["http://127.0.0.1:9/"]
{source_lines}
[sources.politeness]
{politeness_lines}
"""


def _run(tmp_path: Path, text: str) -> tuple[int, str]:
    config = tmp_path / "newsmon.toml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "sources", "list"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("concurrency_per_domain = 0",
         "setting 'concurrency_per_domain' must be from 1 to 64 requests at once, got 0"),
        ("concurrency_per_domain = -3",
         "setting 'concurrency_per_domain' must be from 1 to 64 requests at once, got -3"),
        ("concurrency_per_domain = 65",
         "setting 'concurrency_per_domain' must be from 1 to 64 requests at once, got 65"),
        ("max_response_bytes = 0",
         "setting 'max_response_bytes' must be from 1024 to 1.07374e+09 bytes, got 0"),
        ("download_timeout = -1",
         "setting 'download_timeout' must be from 1 to 3600 seconds, got -1.0"),
        ("download_timeout = 0",
         "setting 'download_timeout' must be from 1 to 3600 seconds, got 0.0"),
        ("download_timeout = nan",
         "setting 'download_timeout' must be from 1 to 3600 seconds, got nan"),
        ("download_delay = -0.5",
         "setting 'download_delay' must be from 0 to 3600 seconds, got -0.5"),
        ("download_delay = inf",
         "setting 'download_delay' must be from 0 to 3600 seconds, got inf"),
    ],
)
def test_settings_out_of_range(tmp_path: Path, line: str, message: str) -> None:
    code, output = _run(tmp_path, f'[settings]\ntimezone = "UTC"\n\n{line}\n')
    assert code == EXIT_USAGE
    assert output == f"newsmon: error: {tmp_path / 'newsmon.toml'}:4: {message}\n"


@pytest.mark.parametrize(
    ("source_lines", "politeness_lines", "line", "message"),
    [
        ("max_list_pages = 0", "", 7,
         "source 'site': 'max_list_pages' must be from 1 to 1000 pages, got 0"),
        ("max_list_pages = 100000", "", 7,
         "source 'site': 'max_list_pages' must be from 1 to 1000 pages, got 100000"),
        ("", "concurrency = 0", 9,
         "source 'site': 'concurrency' must be from 1 to 64 requests at once, got 0"),
        ("", "download_delay = -1", 9,
         "source 'site': 'download_delay' must be from 0 to 3600 seconds, got -1.0"),
    ],
)
def test_source_numbers_out_of_range(tmp_path: Path, source_lines: str,
                                     politeness_lines: str, line: int, message: str) -> None:
    text = SOURCE.format(source_lines=source_lines, politeness_lines=politeness_lines)
    code, output = _run(tmp_path, text)
    assert code == EXIT_USAGE
    assert output == f"newsmon: error: {tmp_path / 'newsmon.toml'}:{line}: {message}\n"


def test_file_mode_out_of_range(tmp_path: Path) -> None:
    code, output = _run(tmp_path, '[[subscriptions]]\nname = "desk"\nfile_mode = "1777"\n')
    assert code == EXIT_USAGE
    assert output == (f"newsmon: error: {tmp_path / 'newsmon.toml'}:3: subscription 'desk': "
                      "'file_mode' must be from 0 to 777 (octal permission bits), got 1777\n")


@pytest.mark.parametrize("end", [0, 1])
def test_boundaries_accepted(tmp_path: Path, end: int) -> None:
    """Both ends of every range load (and make a working `sources list`)."""
    def value(name: str) -> str:
        number = NUMBER_RANGES[name][end]
        return repr(int(number)) if float(number).is_integer() else repr(number)

    mode = int(NUMBER_RANGES["file_mode"][end])
    text = (
        '[settings]\ntimezone = "UTC"\n'
        + "".join(f"{key} = {value(key)}\n" for key in
                  ("download_delay", "concurrency_per_domain", "download_timeout",
                   "max_response_bytes"))
        + SOURCE.removeprefix('[settings]\ntimezone = "UTC"\n').format(
            source_lines=f"max_list_pages = {value('max_list_pages')}",
            politeness_lines=(f"download_delay = {value('politeness.download_delay')}\n"
                              f"concurrency = {value('politeness.concurrency')}"))
        + f'\n[[subscriptions]]\nname = "desk"\nfile_mode = "{mode:o}"\n'
    )
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    low_or_high = {name: bounds[end] for name, bounds in NUMBER_RANGES.items()}
    assert config.settings.concurrency_per_domain == low_or_high["concurrency_per_domain"]
    assert config.settings.max_response_bytes == low_or_high["max_response_bytes"]
    assert config.sources[0].max_list_pages == low_or_high["max_list_pages"]
    assert config.sources[0].politeness.concurrency == low_or_high["politeness.concurrency"]
    assert config.subscriptions[0].file_mode == low_or_high["file_mode"]
    code, output = _run(tmp_path, text)
    assert code == 0, output


def test_crawl_with_concurrency_zero_never_starts(newsmon: Newsmon) -> None:
    """The real crawl command exits at once with the config error: Scrapy, which
    would hang on CONCURRENT_REQUESTS_PER_DOMAIN = 0, is never reached."""
    assert newsmon.config is not None
    newsmon.config.write_text(with_settings(newsmon.config.read_text(encoding="utf-8"),
                                            "concurrency_per_domain = 0"), encoding="utf-8")
    lines = newsmon.config.read_text(encoding="utf-8").splitlines()
    line = lines.index("concurrency_per_domain = 0") + 1
    result = newsmon("crawl", check=False, timeout=120)
    assert result.returncode == EXIT_USAGE
    assert result.stderr == (f"newsmon: error: {newsmon.config}:{line}: setting "
                             "'concurrency_per_domain' must be from 1 to 64 requests at once, "
                             "got 0\n")
    assert result.stdout == ""
