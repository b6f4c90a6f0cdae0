"""The ASGI app of ``newsmon serve``: FastAPI, Jinja2 templates, uvicorn.

FastAPI because the same app serves the HTML pages and the JSON API, and it writes
the API's OpenAPI document from the route signatures; Jinja2 because it autoescapes
every value put into a page, which is what crawled text needs.

Every response carries a Content-Security-Policy without ``'unsafe-inline'``: scripts
run only from ``/static`` and only with this response's nonce, styles only from
``/static``. So even a crawled title that slipped past escaping could not run a
script. Pages work without JavaScript; ``/static/newsmon.js`` only adds comfort.
"""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from newsmon.config import Config
from newsmon.storage.engine import Database
from newsmon.web.access import BROWSER_COOKIE, Access, new_browser_id

HERE = Path(__file__).resolve().parent


@dataclass
class WebSettings:
    """What one running app serves: the archive, the config and the write policy."""

    database: Database
    config: Config = field(default_factory=Config)
    access: Access = field(default_factory=lambda: Access(token=None))

    @property
    def read_only(self) -> bool:
        return self.access.read_only

    @property
    def zone(self) -> str:
        return self.config.settings.timezone


def settings_of(request: Request) -> WebSettings:
    """The settings of the app serving ``request`` (for pages, forms and the API)."""
    settings: WebSettings = request.app.state.settings
    return settings


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'none'",
        f"script-src 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


def create_app(settings: WebSettings) -> FastAPI:
    """The app: pages at ``/``, the JSON API at ``/api/v1`` (when present), ``/static``."""
    from newsmon.web import pages

    app = FastAPI(title="newsmon", summary="Regional Chinese news: search, topics, sources.",
                  docs_url="/api/v1/docs", redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.settings = settings
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if importlib.util.find_spec("newsmon.web.api") is not None:
        api = importlib.import_module("newsmon.web.api")
        app.include_router(api.router, prefix="/api/v1")
    app.include_router(pages.router)
    pages.install_error_pages(app)
    return app


async def _security_headers(request: Request,
                            call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """A fresh script nonce per response, the CSP and the other hardening headers, and
    the browser id cookie the CSRF fields are signed against."""
    nonce = secrets.token_urlsafe(16)
    request.state.csp_nonce = nonce
    browser_id = request.cookies.get(BROWSER_COOKIE) or new_browser_id()
    request.state.browser_id = browser_id
    response = await call_next(request)
    if request.url.path.startswith("/api/v1/docs"):
        return response  # the interactive API docs bring their own scripts
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if BROWSER_COOKIE not in request.cookies:
        response.set_cookie(BROWSER_COOKIE, browser_id, httponly=True, samesite="strict")
    return response
