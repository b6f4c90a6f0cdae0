"""``newsmon extract`` on a file and on a real local HTTP server (127.0.0.1, port 0)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmon.cli import cli
from tests.local_http import LocalServer, page_or_404

PARAGRAPH = "青島市今天召開會議，研究部署今年的重點工作。會議指出，要堅持穩中求進，推動高質量發展。"
PARAGRAPH2 = "會議要求，各區市要抓好項目建設，優化營商環境，做好春節前後的市場供應工作。"
PAGE = (
    "<html><head><meta charset=\"gbk\"><title>青島召開會議 - 大衆網</title>"
    "<link rel=canonical href=\"/news/2020/0113/1.htm\"></head><body>"
    "<h1>青島召開會議</h1><div>2020-01-13 08:46 來源:大衆網 標簽:青島</div>"
    f"<p>{PARAGRAPH}</p><p>{PARAGRAPH2}</p><p>責編:劉亞會</p></body></html>"
)


def _answer(handler: BaseHTTPRequestHandler) -> None:
    page_or_404(handler, PAGE.encode("gbk") if handler.path == "/article.htm" else None,
                "text/html; charset=GBK")


@pytest.fixture
def server() -> Iterator[str]:
    with LocalServer(_answer) as httpd:
        yield httpd.base


def _run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, ["extract", *args])
    return result.exit_code, result.stdout, result.stderr


def test_extract_file_as_json(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.encode("gbk"))
    code, out, _err = _run(str(path), "--url", "http://www.dzwww.com/x.htm", "--json")
    assert code == 0
    data = json.loads(out)
    assert data == {
        "url": "http://www.dzwww.com/x.htm",
        "canonical_url": "http://www.dzwww.com/news/2020/0113/1.htm",
        "title": "青島召開會議",
        "published_at": "2020-01-13T08:46:00+08:00",
        "published_source": "byline",
        "updated_at": None,
        "source": "大衆網",
        "author": None,  # the page credits only an editor
        "editor": "劉亞會",
        "tags": ["青島"],
        "body": f"{PARAGRAPH}\n{PARAGRAPH2}",
        "script": "traditional",
        "encoding": {"declared": "gbk", "used": "gb18030"},
        "is_article": True,
    }


def test_extract_url_fetches_once_and_uses_header_charset(server: str) -> None:
    code, out, _err = _run(f"{server}/article.htm", "--timezone", "Asia/Taipei", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["url"] == f"{server}/article.htm"
    assert data["canonical_url"] == f"{server}/news/2020/0113/1.htm"
    assert data["encoding"] == {"declared": "gbk", "used": "gb18030"}
    assert data["published_at"] == "2020-01-13T08:46:00+08:00"


def test_summary_without_json(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.encode("gbk"))
    code, out, _err = _run(str(path))
    assert code == 0
    assert out.splitlines()[0] == "title      青島召開會議"
    assert "source     大衆網" in out
    assert out.rstrip().endswith(PARAGRAPH2)


@pytest.mark.parametrize(("target", "message"), [
    ("/article-missing.htm", "HTTP 404"),
    ("/no/such/file.html", "No such file"),
])
def test_unreadable_input_is_one_line_and_exit_1(server: str, target: str, message: str) -> None:
    where = f"{server}{target}" if target.startswith("/article") else target
    code, out, err = _run(where)
    assert code == 1
    assert out == ""
    assert err.startswith("newsmon: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_refused_connection_exits_1() -> None:
    code, _out, err = _run("http://127.0.0.1:9/x.htm")
    assert code == 1
    assert "127.0.0.1:9" in err


def test_bad_timezone_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.encode("gbk"))
    code, _out, err = _run(str(path), "--timezone", "Nowhere/City")
    assert code == 2
    assert "Nowhere/City" in err


def test_help_shows_an_example() -> None:
    code, out, _err = _run("--help")
    assert code == 0
    assert "Example:" in out
    assert "newsmon extract" in out
