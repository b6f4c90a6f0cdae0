"""A source's ``[sources.politeness]`` overrides reach its running crawl.

Scrapy's CrawlerProcess merges its own settings (the app-wide ``[settings]`` values)
into every Crawler it is given, and a value of the same priority wins there: the
source's ``download_delay``, ``concurrency`` and ``obey_robots`` were silently replaced
by the app-wide ones. The robots rule is the override a test can see without timing
anything: whether the site's server received a request for ``/robots.txt``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmon.samplesites import SampleSites
from tests.conftest import Newsmon, with_settings

SOURCE = "bandao"


def _config(sites: SampleSites, app_rule: bool, source_rule: bool) -> str:
    """The sample config with the app-wide robots rule and ``SOURCE``'s own rule."""
    text = with_settings(sites.config_toml(), 'backfill_window = "off"',
                         f"obey_robots = {str(app_rule).lower()}")
    start = text.index(f'name = "{SOURCE}"\n')
    end = text.find("[[sources]]", start)
    block = text[start:end]
    assert "obey_robots = true" in block
    return (text[:start] + block.replace("obey_robots = true",
                                         f"obey_robots = {str(source_rule).lower()}")
            + text[end:])


@pytest.mark.parametrize(("app_rule", "source_rule"), [(True, False), (False, True)])
def test_the_sources_robots_rule_wins_over_the_app_wide_one(
        sites: SampleSites, tmp_path: Path, sqlite_url: str, app_rule: bool,
        source_rule: bool) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(_config(sites, app_rule, source_rule), encoding="utf-8")
    newsmon = Newsmon(sqlite_url, config, home=tmp_path / "home")

    newsmon("crawl", "--source", SOURCE)

    paths = [entry.path for entry in sites.requests.entries()]
    assert any(path.startswith(f"/{SOURCE}/") for path in paths)  # the crawl ran
    assert ("/robots.txt" in paths) is source_rule
