"""Article extraction: raw page bytes to an :class:`~newsmon.values.ExtractedArticle`.

Pure functions over values (no network, database or clock; the fetch time is an
argument), importable without Scrapy so the CLI, the crawler and tests share one
code path. ``extract_article`` raises only :class:`ExtractionFailed` (a bug the page
trips, never a verdict on it); ``decode_html`` is exposed for callers that need only
the text.
"""

from newsmon.crawler.extract.article import ExtractionFailed, extract_article
from newsmon.crawler.extract.decode import DecodedPage, decode_html

__all__ = ["DecodedPage", "ExtractionFailed", "decode_html", "extract_article"]
