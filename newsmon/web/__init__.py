"""``newsmon serve``: the web view and the HTTP API, a shell over ``newsmon.app``.

Like the CLI, this package parses input and presents results; the use-cases live in
:mod:`newsmon.app` (search, articles, topics, sources, runs), so a page, an API call
and a command give the same answer. :mod:`newsmon.web.app` builds the ASGI app,
:mod:`newsmon.web.access` decides who may write, :mod:`newsmon.web.pages` serves the
HTML pages and :mod:`newsmon.web.api` the JSON API under ``/api/v1``.
"""
