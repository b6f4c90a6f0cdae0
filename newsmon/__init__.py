"""newsmon: scheduled monitoring of regional Chinese news.

This package holds the front door (the ``newsmon`` command), the typed application
configuration and the plain value types shared by the crawler, storage and scheduler
layers. It imports neither scrapy nor sqlalchemy at module level.
"""

__version__ = "0.1.0"
