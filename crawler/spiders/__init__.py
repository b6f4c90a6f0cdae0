"""Scrapy spiders; `news` is the only one (see crawler/spiders/news.py)."""
