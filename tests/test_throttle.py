"""crawler/throttle.py: a 304 Not Modified moves AutoThrottle's delay as a 200 does.

Real Scrapy parts (a crawler's settings, a downloader slot, responses); the delay a
slot is given is what the downloader waits between two requests to the site.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from newsmon.crawler import settings as project_settings
from newsmon.crawler.throttle import ConditionalAutoThrottle

URL = "http://127.0.0.1/a/1.html"


def _throttle(kind: type[AutoThrottle], download_delay: float) -> AutoThrottle:
    crawler = get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": True,
                                         "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
                                         "AUTOTHROTTLE_MAX_DELAY": 30.0,
                                         "DOWNLOAD_DELAY": download_delay})
    throttle = kind.from_crawler(crawler)
    throttle.mindelay, throttle.maxdelay = throttle._min_delay(), throttle._max_delay()
    return throttle


def _after(throttle: AutoThrottle, delay: float, answers: list[tuple[int, float]]) -> float:
    """The slot's delay after these (status, latency) answers."""
    slot = Slot(concurrency=8, delay=delay, jitter=0)
    for status, latency in answers:
        throttle._adjust_delay(slot, latency, Response(URL, status=status))
    return slot.delay


def test_fast_304s_bring_a_raised_delay_down_where_scrapys_own_keeps_it() -> None:
    fast_304s = [(304, 0.002)] * 10
    assert _after(_throttle(AutoThrottle, 0.0), 0.5, fast_304s) == 0.5  # why it exists
    lowered = _after(_throttle(ConditionalAutoThrottle, 0.0), 0.5, fast_304s)
    assert lowered < 0.01
    as_200s = _after(_throttle(ConditionalAutoThrottle, 0.0), 0.5, [(200, 0.002)] * 10)
    assert lowered == as_200s


def test_the_configured_delay_stays_the_floor() -> None:
    assert _after(_throttle(ConditionalAutoThrottle, 0.3), 2.0, [(304, 0.001)] * 20) == 0.3


def test_a_slow_304_raises_the_delay_and_other_errors_still_cannot_lower_it() -> None:
    throttle = _throttle(ConditionalAutoThrottle, 0.0)
    assert _after(throttle, 0.1, [(304, 4.0)]) == 2.0  # latency / target concurrency
    assert _after(throttle, 0.5, [(404, 0.001), (503, 0.001)]) == 0.5


def test_crawls_and_revisits_use_it_in_place_of_scrapys() -> None:
    extensions = project_settings.EXTENSIONS
    assert extensions["scrapy.extensions.throttle.AutoThrottle"] is None
    assert "newsmon.crawler.throttle.ConditionalAutoThrottle" in extensions
