"""Log lines for dropped items: the reason only, not the page bytes.

Scrapy's default formatter logs a dropped item's full repr at WARNING; for newsmon a
drop (a list page reached from a sitemap, an empty page) is an expected, counted
outcome, so it is logged at DEBUG with its reason.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class NewsmonLogFormatter(LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any,
                spider: Any = None) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Dropped: %(reason)s",
                "args": {"reason": exception}}
