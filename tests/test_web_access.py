"""Who may change what through ``newsmon serve``, over a real SQLite archive.

The browser tests (test_web_pages.py) cover the token in a form; these cover the
rest of the policy over HTTP in-process: CSRF, read-only mode, no token configured,
the security headers, and which URLs may become links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsmon.storage.engine import Database
from newsmon.web.access import Access, token_from_environment
from newsmon.web.app import WebSettings, create_app
from newsmon.web.render import http_url

TOKEN = "access-test-token"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    db.ensure_schema()
    yield db
    db.dispose()


def client(database: Database, token: str | None = TOKEN, read_only: bool = False
           ) -> TestClient:
    return TestClient(create_app(WebSettings(database, access=Access(token, read_only))))


def csrf_of(web: TestClient) -> str:
    """The CSRF field of this browser: from the form when the page offers one, else
    (read-only, no token) computed as a page would have signed it."""
    page = web.get("/topics")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    if found:
        return found.group(1)
    access: Access = web.app.state.settings.access  # type: ignore[attr-defined]
    return access.csrf_token(web.cookies["newsmon_browser"])


def add(web: TestClient, csrf: str, token: str = TOKEN, name: str = "port") -> int:
    return int(web.post("/topics", data={"name": name, "query": "港口", "csrf": csrf,
                                         "token": token}).status_code)


def topic_names(web: TestClient) -> list[str]:
    return re.findall(r'<tr data-topic="([^"]+)"', web.get("/topics").text)


def test_a_form_without_the_csrf_field_of_this_browser_is_refused(database: Database) -> None:
    web = client(database)
    assert add(web, csrf="") == 403
    other = client(database)
    assert add(web, csrf=csrf_of(other)) == 403  # another browser's field
    assert topic_names(web) == []
    assert add(web, csrf=csrf_of(web)) == 200
    assert topic_names(web) == ["port"]


def test_read_only_mode_refuses_even_the_right_token(database: Database) -> None:
    web = client(database, read_only=True)
    assert add(web, csrf_of(web)) == 403
    assert topic_names(web) == []
    assert 'name="query"' not in web.get("/topics").text  # no form offered


def test_without_a_configured_token_nothing_can_be_changed(database: Database) -> None:
    web = client(database, token=None)
    assert add(web, csrf_of(web), token="") == 403
    assert "NEWSMON_WEB_TOKEN" in web.get("/topics").text


def test_a_login_cookie_replaces_the_token_and_logout_ends_it(database: Database) -> None:
    web = client(database)
    csrf = csrf_of(web)
    assert web.post("/login", data={"token": "wrong-token", "csrf": csrf}).status_code == 401
    assert web.post("/login", data={"token": TOKEN, "csrf": csrf, "next": "//evil.example/"},
                    follow_redirects=False).headers["location"] == "/topics"
    assert add(web, csrf, token="") == 200
    web.post("/logout", data={"csrf": csrf})
    assert add(web, csrf, token="", name="other") == 401


def test_every_page_sends_a_csp_without_inline_script(database: Database) -> None:
    web = client(database)
    for path in ("/", "/search?q=青岛", "/topics", "/sources", "/runs", "/feeds", "/nope"):
        response = web.get(path)
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "script-src 'nonce-" in policy, path
        nonce = policy.split("'nonce-")[1].split("'")[0]
        assert f'<script src="/static/newsmon.js" nonce="{nonce}"' in response.text, path
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_malformed_search_is_answered_with_its_position(database: Database) -> None:
    response = client(database).get("/search", params={"q": "青岛 AND (港口"})
    assert response.status_code == 400
    assert re.search(r'data-position="\d+"', response.text)


@pytest.mark.parametrize(("url", "linked"), [
    ("https://www.dzwww.com/a.htm", True), ("http://127.0.0.1:8000/x", True),
    ("javascript:alert(1)", False), (" JavaScript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False), ("//evil.example/", False),
    ("/relative/path", False), ("vbscript:msgbox", False), ("", False),
])
def test_only_http_urls_become_links(url: str, linked: bool) -> None:
    assert (http_url(url) is not None) == linked


def test_a_short_token_is_refused_at_start() -> None:
    assert token_from_environment({"NEWSMON_WEB_TOKEN": ""}) is None
    with pytest.raises(ValueError, match="at least 8"):
        token_from_environment({"NEWSMON_WEB_TOKEN": "abc"})
