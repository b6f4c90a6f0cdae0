"""Sample regional news sites served from localhost, for tests, the demo and benches.

Four sites made from real articles of the shared corpus (see PROVENANCE.md), each
under its own path prefix on one ``127.0.0.1:PORT`` server started on port 0:

- ``/dzwww/``       大衆網, Traditional script, UTF-8 — list pages + sitemap; has the
                    seed article (換道超越) with its leaked empty tags and boilerplate
- ``/qingdaonews/`` 青岛新闻网, Simplified, **GBK** — list pages (``?page=2``) + RSS
- ``/bandao/``      半岛网, Simplified, UTF-8 — list pages + RSS + sitemap index with a
                    Google News sitemap
- ``/wenweipo/``    香港文匯網, Traditional, **Big5** — list pages only; on day two it
                    republishes the 大衆網 seed story (來源：大衆網)
- ``/broken/``      404, 500, 503, slow, redirect loop, wrong charset, 20 MB, PDF,
                    malformed feed (see :mod:`newsmon.samplesites.broken`)

The ``hostile`` site (:class:`~newsmon.samplesites.hostile.HostileSite`) runs on ports of
its own, with a canary "other host" and an FTP-like listener that count every
connection: its links, feeds, sitemaps and redirects lead off the site, and its
articles carry text meant to break the archive and the terminal.

``/robots.txt`` (with ``Sitemap:`` lines) is served at the root. Each site has a day one
and a day two state; day two adds articles everywhere.

>>> with SampleSites(day=1) as sites:        # doctest: +SKIP
...     toml = sites.config_toml()
...     sites.set_day(2)
...     sites.requests.entries()

Run ``python -m newsmon.samplesites`` to serve them until Ctrl-C.
"""

from newsmon.samplesites.catalog import Block, SampleArticle
from newsmon.samplesites.server import LoggedRequest, RequestLog, SampleSites

__all__ = ["Block", "LoggedRequest", "RequestLog", "SampleArticle", "SampleSites"]
