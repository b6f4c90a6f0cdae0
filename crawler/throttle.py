"""AutoThrottle that learns from ``304 Not Modified`` answers too.

Scrapy's AutoThrottle only ever *raises* a site's delay on an answer other than 200
(error pages are small and fast, and would talk it down). A ``304`` is not an error
page: it is the server's real answer to a conditional GET, and its latency is what a
request costs that server. A re-visit run is almost only 304s, so with the stock
extension the delay set by the first slow answer — the robots.txt 404, or one answer
delayed by a busy machine — stays for the whole run, one request per delay: the
re-visit of 2,000 unchanged pages sat idle most of its time (``bench/revisit.py``).

Here a 304 adjusts the delay exactly as a 200 does. Politeness is unchanged: the
delay still follows the site's latency (about ``AUTOTHROTTLE_TARGET_CONCURRENCY``
requests in flight at the server), never drops below the configured
``DOWNLOAD_DELAY`` (the source's ``download_delay``), and
``CONCURRENT_REQUESTS_PER_DOMAIN`` still caps what is in flight. Other non-200
answers keep Scrapy's rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.extensions.throttle import AutoThrottle

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.http import Response

NOT_MODIFIED = 304


class ConditionalAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, with a 304 counted as the successful answer it is
    (enabled in place of Scrapy's by ``EXTENSIONS`` in ``crawler/settings.py``)."""

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        if response.status == NOT_MODIFIED:
            # Scrapy's own policy for a 200 (a 304 carries no body to copy).
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
